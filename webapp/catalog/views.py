"""The feature table: all models' claims beside what Screentest measured. A single model's
claims are shown on its page (webapp/gallery/views.py model_page)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from .feature_table import feature_table


@require_GET
def compare_page(request):
    return render(request, "catalog/compare.html", feature_table())
