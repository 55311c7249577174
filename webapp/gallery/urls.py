from django.urls import path

from . import views

app_name = "gallery"

urlpatterns = [
    path("", views.gallery, name="home"),
    path("p/<str:public_id>/compare", views.compare_page, name="compare"),
    path("p/<str:public_id>/compare/export", views.request_export, name="request_export"),
    path("exports/<str:public_id>", views.export_status, name="export_status"),
    path("exports/<str:public_id>/download", views.export_download, name="export_download"),
    path("models/compare", views.feature_table_page, name="feature_table"),
    path("models/<slug:slug>", views.model_page, name="model"),
]
