from django.urls import path

from . import views

app_name = "moderation"

urlpatterns = [
    path("moderation/", views.queue_page, name="queue"),
    path("moderation/decide", views.decide_view, name="decide"),
    path("moderation/clips/<str:public_id>.mp4", views.clip_media, name="clip_media"),
    path("moderation/audit", views.audit_page, name="audit"),
    path("moderation/audit.csv", views.audit_csv, name="audit_csv"),
    path("report", views.report_view, name="report"),
    path("arena/report", views.report_battle_view, name="report_battle"),
]
