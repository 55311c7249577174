from django.urls import path

from . import api, views

app_name = "arena"

urlpatterns = [
    path("arena", views.battle_page, name="battle"),
    path("arena/vote", views.vote, name="vote"),
    path("arena/b/<str:public_id>/<str:side>.mp4", views.battle_media, name="media"),
    path("leaderboard", views.leaderboard_page, name="leaderboard"),
    path("api/v1/battles/next", api.next_battle, name="api_next_battle"),
    path("api/v1/votes", api.votes, name="api_votes"),
    path("api/v1/battles/export", api.export_battles, name="api_export_battles"),
    path("api/v1/leaderboard", api.leaderboard, name="api_leaderboard"),
]
