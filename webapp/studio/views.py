"""Server-rendered pages: the submit form, a prompt's page with live job cards."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING  # 286: htmx stops polling the element

from webapp.catalog.models import VideoModel
from webapp.core.file_responses import serve_stored_file

from . import provenance
from .forms import PromptForm
from .models import Clip, GenerationJob, Prompt
from .presenters import jobs_of
from .services import jobs as job_service
from .services import originals
from .services.budget import BudgetError, Submitter
from .services.submission import PromptInput, SubmissionError, submit_prompt
from .signals import named_results_viewed
from .visibility import canceller, may_cancel, may_read_text, remember_submission


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
            done = redirect("studio:prompt", public_id=prompt.public_id)
            remember_submission(request, done, prompt)
            return done
    status = refusal.status if refusal else 400 if request.method == "POST" else 200
    response = render(request, "studio/new_prompt.html", {"form": form}, status=status)
    if refusal and refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    return response


@require_GET
def prompt_page(request, public_id: str):
    prompt = Prompt.objects.get_or_404(public_id)
    named_results_viewed.send(sender=prompt_page, request=request, prompts=[prompt])
    context = {
        "prompt": prompt,
        "jobs": jobs_of(prompt),
        "show_text": may_read_text(request, prompt),
        "may_cancel": may_cancel(request, prompt),
    }
    return render(request, "studio/prompt.html", context)


def _job_of_prompt_or_404(public_id: str, job_id: int) -> GenerationJob:
    job = (
        GenerationJob.objects.select_related("model", "clip", "prompt")
        .filter(pk=job_id, prompt__public_id=public_id)
        .first()
    )
    if job is None:
        raise Http404("no such job")
    return job


@require_GET
def job_card(request, public_id: str, job_id: int):
    """One model's card on the prompt page; htmx polls it until the job is final."""
    return _card_response(request, _job_of_prompt_or_404(public_id, job_id))


@require_POST
def cancel_job(request, public_id: str, job_id: int):
    """The Cancel button of a job card: its prompt's submitter or a moderator stops the job.
    A job that finished meanwhile stays as it is; either way the card shows where it ended."""
    job = _job_of_prompt_or_404(public_id, job_id)
    if not may_cancel(request, job.prompt):
        raise PermissionDenied("Only the prompt's submitter or a moderator may cancel its jobs.")
    job_service.cancel(job.pk, by=canceller(request))
    if not request.htmx:
        return redirect("studio:prompt", public_id=public_id)
    return _card_response(request, _job_of_prompt_or_404(public_id, job_id))


def _card_response(request, job: GenerationJob) -> HttpResponse:
    context = {"job": job, "prompt": job.prompt, "may_cancel": may_cancel(request, job.prompt)}
    html = render_to_string("studio/_job_card.html", context, request)
    if request.htmx:  # the page's heading and status come along (out of band): approval shows at once
        status = {"prompt": job.prompt, "show_text": may_read_text(request, job.prompt), "oob": True}
        html += render_to_string("studio/_prompt_status.html", status, request)
    response = HttpResponse(html)
    if job.is_terminal and request.htmx and request.method == "GET":
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


@require_http_methods(["GET", "HEAD"])
def clip_original(request, public_id: str):
    """The original, named, with the provenance record in its metadata (or byte for byte when
    it carries a C2PA manifest). Only serves a file: the tagged copy is made once on the media
    queue (services/originals.py); until it exists the answer is 202 with Retry-After."""
    clip = _public_clip_or_404(public_id)
    if not clip.original.name:
        raise Http404("the original is not kept")
    name = originals.ready_name(clip)
    if name is None:
        originals.request_tagged_original(clip)
        response = HttpResponse(
            "The download is being prepared; try again in a few seconds.",
            status=202,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(originals.RETRY_AFTER_S)
        response["Cache-Control"] = "no-store"
        return response
    named_results_viewed.send(sender=clip_original, request=request, prompts=[clip.job.prompt])
    response = serve_stored_file(request, name, cache_control="private, max-age=3600")
    response["Content-Disposition"] = f'attachment; filename="{provenance.download_name(clip)}"'
    return response


@require_GET
def models_page(request):
    return render(request, "studio/models.html", {"models": VideoModel.objects.all()})


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
