"""Server-rendered pages: the submit form, a prompt's page with live job cards."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HTMX_STOP_POLLING  # 286: htmx stops polling the element

from webapp.catalog.models import VideoModel
from workers import media

from . import provenance
from .forms import PromptForm
from .models import Clip, GenerationJob, Prompt
from .presenters import jobs_of
from .services.budget import BudgetError, Submitter
from .services.submission import PromptInput, SubmissionError, submit_prompt
from .signals import named_results_viewed


@require_http_methods(["GET", "POST"])
def new_prompt(request):
    form = PromptForm(request.POST or None)
    refusal: BudgetError | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            prompt = submit_prompt(
                PromptInput(
                    text=data["text"],
                    models=data["models"],
                    duration_s=data["duration_s"],
                    aspect_ratio=data["aspect_ratio"],
                    seed=data["seed"],
                ),
                source=Prompt.Source.WEB,
                submitter=Submitter.of(request),
            )
        except (SubmissionError, BudgetError) as exc:
            form.add_error(
                exc.field if exc.field in form.fields else ("text" if exc.field == "prompt" else None), exc.message
            )
            refusal = exc if isinstance(exc, BudgetError) else None
        else:  # a new prompt, or the same one submitted moments ago
            return redirect("studio:prompt", public_id=prompt.public_id)
    status = refusal.status if refusal else 400 if request.method == "POST" else 200
    response = render(request, "studio/new_prompt.html", {"form": form}, status=status)
    if refusal and refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    return response


@require_GET
def prompt_page(request, public_id: str):
    prompt = Prompt.objects.get_or_404(public_id)
    named_results_viewed.send(sender=prompt_page, request=request, prompts=[prompt])
    return render(request, "studio/prompt.html", {"prompt": prompt, "jobs": jobs_of(prompt)})


@require_GET
def job_card(request, public_id: str, job_id: int):
    """One model's card on the prompt page; htmx polls it until the job is final."""
    job = (
        GenerationJob.objects.select_related("model", "clip", "prompt")
        .filter(pk=job_id, prompt__public_id=public_id)
        .first()
    )
    if job is None:
        raise Http404("no such job")
    response = render(request, "studio/_job_card.html", {"job": job, "prompt": job.prompt})
    if job.is_terminal and request.htmx:
        # Swap in the final card and stop polling.
        response.status_code = HTMX_STOP_POLLING
    return response


def _public_clip_or_404(public_id: str) -> Clip:
    return Clip.objects.public().select_related("job__prompt", "job__model").get_or_404(public_id)


@require_GET
def clip_page(request, public_id: str):
    """One clip, named, with its "AI-generated" label and provenance record."""
    clip = _public_clip_or_404(public_id)
    named_results_viewed.send(sender=clip_page, request=request, prompts=[clip.job.prompt])
    return render(
        request,
        "studio/clip.html",
        {"clip": clip, "provenance": provenance.record(clip)},
    )


@require_GET
def clip_original(request, public_id: str):
    """The original as received, named, with the provenance record in its metadata (or byte for
    byte when it carries a C2PA manifest)."""
    clip = _public_clip_or_404(public_id)
    if not clip.original.name or not default_storage.exists(clip.original.name):
        raise Http404("the original is not kept")
    named_results_viewed.send(sender=clip_original, request=request, prompts=[clip.job.prompt])
    try:
        handle = provenance.original_for_download(clip)
    except media.MediaError as exc:
        return HttpResponse(f"The download could not be prepared: {exc.code}.", status=503, content_type="text/plain")
    return FileResponse(handle, as_attachment=True, filename=provenance.download_name(clip))


@require_GET
def models_page(request):
    return render(request, "studio/models.html", {"models": VideoModel.objects.all()})


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
