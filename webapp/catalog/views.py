"""The feature table pages: all models compared, and one model's page."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .feature_table import feature_table, model_facts
from .models import VideoModel


@require_GET
def compare_page(request):
    return render(request, "catalog/compare.html", feature_table())


@require_GET
def model_page(request, slug):
    model = VideoModel.objects.filter(slug=slug).first()
    if model is None:
        raise Http404("no such model")
    return render(request, "catalog/model.html", model_facts(model))
