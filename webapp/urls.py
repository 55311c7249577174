"""The site's URLs: each app's own, plus the project-wide pieces (admin, login, error pages).
JSON API paths (/api/v1/...) get JSON errors, never Django's HTML pages."""

import sys

from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.shortcuts import render
from django.urls import include, path

from webapp.core.api import json_error
from webapp.core.openapi import openapi_document
from webapp.core.outages import is_outage, outage_response
from webapp.moderation.views import ThrottledLoginView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("webapp.gallery.urls")),
    path("", include("webapp.studio.urls")),
    path("", include("webapp.arena.urls")),
    path("", include("webapp.moderation.urls")),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(next_page="gallery:home"), name="logout"),
    path("api/v1/openapi.json", openapi_document, name="api_openapi"),
]


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    if _wants_json(request):
        return json_error(404, "not_found", "Nothing here.")
    return render(request, "404.html", status=404)


def handler500(request):
    # Django calls this while handling the exception, whichever layer raised it (a view, the
    # session middleware): an outage of the database or Redis is 503, not 500.
    if is_outage(sys.exc_info()[1]):
        return outage_response(request)
    if _wants_json(request):
        return json_error(500, "server_error", "Something broke on our side.")
    return render(request, "500.html", status=500)
