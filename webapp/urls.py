from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import include, path

from webapp.arena import api as arena_api
from webapp.arena import api_voting
from webapp.moderation.views import ThrottledLoginView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("webapp.studio.urls")),
    path("", include("webapp.arena.urls")),
    path("", include("webapp.catalog.urls")),
    path("", include("webapp.gallery.urls")),
    path("api/v1/battles/next", api_voting.next_battle, name="api_next_battle"),
    path("api/v1/votes", api_voting.votes, name="api_votes"),
    path("api/v1/battles/export", arena_api.export_battles, name="api_export_battles"),
    path("api/v1/leaderboard", arena_api.leaderboard, name="api_leaderboard"),
    path("", include("webapp.moderation.urls")),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(next_page="studio:gallery"), name="logout"),
]


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"error": {"code": "not_found", "message": "Nothing here."}}, status=404)
    return render(request, "404.html", status=404)


def handler500(request):
    if _wants_json(request):
        return JsonResponse({"error": {"code": "server_error", "message": "Something broke on our side."}}, status=500)
    return render(request, "500.html", status=500)
