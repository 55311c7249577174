"""Gallery, comparison view, side-by-side exports and model pages. Thin: the rules are in
services/."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING  # 286: htmx stops polling the element

from webapp.catalog.models import VideoModel
from webapp.core.file_responses import serve_stored_file
from webapp.core.storage import name_of
from webapp.policy.states import ModerationState
from webapp.studio.models import Clip, Prompt
from webapp.studio.signals import named_results_viewed

from .forms import GalleryFilterForm
from .models import ExportState, SideBySideExport
from .services import compare, exports, feature_table, model_facts, search

GALLERY_PAGE_SIZE = 12
MODEL_CLIPS_PAGE_SIZE = 24


@require_GET
def gallery(request):
    form = GalleryFilterForm(request.GET or None)
    status = 200
    if form.is_bound and not form.is_valid():
        query, status = search.GalleryQuery(), 400
    else:
        query = form.query() if form.is_bound else search.GalleryQuery()
    asked = request.GET.get("page")
    paginator = search.CappedPaginator(search.prompts(query), GALLERY_PAGE_SIZE, present=search.with_results)
    page = paginator.get_page(asked)
    # A page past the end (or not a number) shows the nearest one, and says so.
    missing_page = asked if asked not in (None, "", str(page.number)) else None
    keep = request.GET.copy()
    keep.pop("page", None)
    context = {
        "page": page,
        "form": form,
        "query_string": keep.urlencode(),
        "missing_page": missing_page,
        "max_results": search.MAX_RESULTS,
    }
    return render(request, "gallery/gallery.html", context, status=status)


def _prompt_or_404(public_id: str) -> Prompt:
    prompt = Prompt.objects.public().filter(public_id=public_id).first()
    if prompt is None:
        raise Http404("no such prompt")
    return prompt


def compare_url(prompt: Prompt, slugs: list[str], t: float | None = None) -> str:
    params = {"models": ",".join(slugs)}
    if t:
        params["t"] = f"{t:g}"
    return reverse("gallery:compare", args=[prompt.public_id]) + "?" + urlencode(params, safe=",")


@require_GET
def compare_page(request, public_id: str):
    prompt = _prompt_or_404(public_id)
    named_results_viewed.send(sender=compare_page, request=request, prompts=[prompt])
    try:
        comparison = compare.build(prompt, request.GET.getlist("models"), request.GET.get("t"))
        error, status = None, 200
    except compare.SelectionError as exc:
        comparison = compare.Comparison(prompt=prompt, available=compare.finished_jobs(prompt))
        error, status = exc, 400
    export = None
    if len(comparison.chosen) >= compare.MIN_CLIPS:
        key = exports.selection_key(prompt, [job.clip.public_id for job in comparison.chosen])
        export = SideBySideExport.objects.filter(selection_key=key).first()
    return render(
        request,
        "gallery/compare.html",
        {
            "prompt": prompt,
            "comparison": comparison,
            "error": error,
            "export": export,
            "share_url": compare_url(prompt, comparison.chosen_slugs, comparison.start_s),
            "speeds": ["0.25", "0.5", "0.75", "1", "1.25", "1.5", "2"],
            "min_clips": compare.MIN_CLIPS,
            "max_clips": compare.MAX_CLIPS,
        },
        status=status,
    )


@require_POST
def request_export(request, public_id: str):
    prompt = _prompt_or_404(public_id)
    try:
        comparison = compare.build(prompt, request.POST.getlist("models"), None)
        if len(comparison.chosen) < compare.MIN_CLIPS:
            raise compare.SelectionError("selection_size", "This prompt has fewer than two finished clips.")
    except compare.SelectionError as exc:
        return render(request, "gallery/_export_error.html", {"error": exc}, status=400)
    export, _ = exports.request_export(prompt, comparison.chosen)
    return render(request, "gallery/_export.html", {"export": export}, status=202 if not export.is_terminal else 200)


def _export_or_404(public_id: str) -> SideBySideExport:
    export = (
        SideBySideExport.objects.filter(public_id=public_id, prompt__moderation=ModerationState.ALLOWED)
        .select_related("prompt")
        .first()
    )
    if export is None:
        raise Http404("no such export")
    # An export shows every clip it was made of: once moderators hide one, it is gone too.
    if Clip.objects.filter(public_id__in=export.clips, hidden=True).exists():
        raise Http404("no such export")
    return export


@require_GET
def export_status(request, public_id: str):
    export = _export_or_404(public_id)
    response = render(request, "gallery/_export.html", {"export": export})
    if export.is_terminal and request.htmx:
        response.status_code = HTMX_STOP_POLLING
    return response


@require_GET
def export_download(request, public_id: str):
    export = _export_or_404(public_id)
    if export.state != ExportState.SUCCEEDED or not export.file:
        raise Http404("this export is not ready")
    response = serve_stored_file(request, name_of(export.file))
    if response.status_code in (200, 206):
        response["Content-Disposition"] = f'attachment; filename="screentest-{export.public_id}.mp4"'
    return response


@require_GET
def model_page(request, slug: str):
    model = get_object_or_404(VideoModel, slug=slug)
    page = Paginator(model_facts.clips_of(model), MODEL_CLIPS_PAGE_SIZE).get_page(request.GET.get("page"))
    # The posters are attributed to the model: a named view of their prompts.
    named_results_viewed.send(sender=model_page, request=request, prompts=[clip.job.prompt for clip in page])
    return render(request, "gallery/model.html", {**feature_table.model_facts(model), "page": page})


@require_GET
def feature_table_page(request):
    """All models: the articles' claims beside what Screentest measured."""
    return render(request, "gallery/feature_table/page.html", feature_table.feature_table())
