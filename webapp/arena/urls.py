from django.urls import path

from . import api, views

app_name = "arena"

urlpatterns = [
    path("arena", views.battle_page, name="battle"),
    path("arena/start", views.start, name="start"),
    path("arena/b/<str:public_id>/status", views.battle_status, name="status"),
    path("arena/vote", views.vote, name="vote"),
    path("arena/b/<str:public_id>/<str:side>.mp4", views.battle_media, name="media"),
    path("leaderboard", views.leaderboard_page, name="leaderboard"),
    path("leaderboard/agreement", views.agreement_page, name="agreement"),
    path("leaderboard/prompts", views.prompt_boards_page, name="prompt_boards"),
    path("api/v1/voters/challenge", api.voter_challenge, name="api_voter_challenge"),
    path("api/v1/voters", api.voters, name="api_voters"),
    path("api/v1/battles/next", api.next_battle, name="api_next_battle"),
    path("api/v1/battles/export", api.export_battles, name="api_export_battles"),
    path("api/v1/battles/<str:public_id>", api.battle_status, name="api_battle"),
    path("api/v1/votes", api.votes, name="api_votes"),
    path("api/v1/leaderboard", api.leaderboard, name="api_leaderboard"),
]
