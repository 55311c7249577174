from django.urls import path

from . import views

app_name = "arena"

urlpatterns = [
    path("arena", views.battle_page, name="battle"),
    path("arena/vote", views.vote, name="vote"),
    path("arena/report", views.report_battle_content, name="report"),
    path("arena/b/<str:public_id>/<str:side>.mp4", views.battle_media, name="media"),
    path("leaderboard", views.leaderboard_page, name="leaderboard"),
]
