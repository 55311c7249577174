from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("webapp.studio.urls")),
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
