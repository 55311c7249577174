"""A URLconf for tests only (`@pytest.mark.urls`): the site's routes plus API views that fail
the ways a bug would, to show what the last-resort guard makes of them."""

from django.http import HttpResponse
from django.urls import path

from webapp.urls import handler404, handler500, urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


def boom(request):
    raise RuntimeError("secret detail: /srv/screentest/settings.py line 12")


def html_error(request):
    return HttpResponse("<html><body>Bad Request (400)</body></html>", status=400)


urlpatterns = [
    path("api/v1/test-boom", boom),
    path("api/v1/test-html-error", html_error),
    path("test-boom", boom),
    *urlpatterns,
]
