from django.urls import path

from . import api, media_views, ops_views, views

app_name = "studio"

urlpatterns = [
    path("new", views.new_prompt, name="new"),
    path("models", views.models_page, name="models"),
    path("p/<str:public_id>", views.prompt_page, name="prompt"),
    path("p/<str:public_id>/jobs/<int:job_id>", views.job_card, name="job_card"),
    path("p/<str:public_id>/jobs/<int:job_id>/cancel", views.cancel_job, name="cancel_job"),
    path("c/<str:public_id>", views.clip_page, name="clip"),
    path("c/<str:public_id>/original", views.clip_original, name="clip_original"),
    path("media/<path:path>", media_views.serve_media, name="media"),
    path("healthz", views.healthz, name="healthz"),
    path("ops/", ops_views.ops_page, name="ops"),
    path("api/v1/prompts", api.prompts, name="api_prompts"),
    path("api/v1/prompts/<str:public_id>", api.prompt_detail, name="api_prompt"),
    path("api/v1/prompts/<str:public_id>/jobs/<str:model>/cancel", api.cancel_job, name="api_cancel_job"),
    path("api/v1/models", api.models, name="api_models"),
]
