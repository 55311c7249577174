from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("models/compare", views.compare_page, name="compare"),
]
