"""The studio's JSON API: submit a prompt, read a prompt with its jobs and clips, list models.
Errors and methods are handled by webapp/core/api.py."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import JsonResponse

from webapp.catalog.models import VideoModel
from webapp.catalog.sizes import ASPECT_RATIOS
from webapp.core.api import api_view, read_json_object
from webapp.core.errors import ScreentestError
from webapp.core.validation import INTEGER, NUMBER, STRING, STRING_LIST, TEXT, Field, int_param
from webapp.policy.states import ModerationState

from .models import GenerationJob, Prompt
from .presenters import job_dict, jobs_of, prompt_dict
from .services import budget, jobs
from .services.submission import PromptInput, submit_prompt
from .signals import named_results_viewed
from .visibility import canceller, may_cancel, may_read_text, remember_submission

PROMPT_FIELDS = {
    "prompt": Field(TEXT),
    "models": Field(STRING_LIST, max_length=100),
    "duration_s": Field(NUMBER),
    "aspect_ratio": Field(STRING, max_length=16),
    "seed": Field(INTEGER),
    "negative_prompt": Field(TEXT),
}
PAGE_SIZE = 20
MAX_PAGE = 100_000


@api_view("GET", "POST", query={"page"})
def prompts(request):
    if request.method == "GET":
        return _list_prompts(request)
    data = read_json_object(request, PROMPT_FIELDS)
    prompt = submit_prompt(
        PromptInput(
            text=data.get("prompt"),
            models=data.get("models"),
            duration_s=data.get("duration_s"),
            aspect_ratio=data.get("aspect_ratio", "16:9"),
            seed=data.get("seed"),
            negative_prompt=data.get("negative_prompt", ""),
        ),
        source=Prompt.Source.API,
        submitter=budget.Submitter.of(request),
    )
    named_results_viewed.send(sender=prompts, request=request, prompts=[prompt])
    # 200: the same prompt was submitted moments ago and this is it ("duplicate": true);
    # 202: accepted but held for a moderator; nothing is generated before approval.
    duplicate = budget.is_duplicate(prompt)
    status = 200 if duplicate else 202 if prompt.moderation == ModerationState.HELD else 201
    # The submitter's own text, held or not (it is what they sent, even for a duplicate).
    response = JsonResponse(
        {**prompt_dict(prompt, jobs_of(prompt), show_text=True), "duplicate": duplicate}, status=status
    )
    response["Location"] = request.build_absolute_uri(f"/api/v1/prompts/{prompt.public_id}")
    remember_submission(request, response, prompt)
    return response


def _list_prompts(request):
    page_number = int_param(request, "page", 1, maximum=MAX_PAGE)
    paginator = Paginator(Prompt.objects.public().prefetch_related("jobs__model", "jobs__clip"), PAGE_SIZE)
    if page_number > max(paginator.num_pages, 1):
        raise ScreentestError("page_out_of_range", f"there are {paginator.num_pages} pages", status=404, field="page")
    page = paginator.page(page_number)
    named_results_viewed.send(sender=_list_prompts, request=request, prompts=list(page))
    return JsonResponse(
        {
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
            "results": [prompt_dict(p, sorted(p.jobs.all(), key=lambda j: j.model.display_name)) for p in page],
        }
    )


@api_view("GET")
def prompt_detail(request, public_id: str):
    prompt = Prompt.objects.filter(public_id=public_id).first()
    if prompt is None:
        raise ScreentestError("not_found", "No prompt has that id.", status=404)
    named_results_viewed.send(sender=prompt_detail, request=request, prompts=[prompt])
    return JsonResponse(prompt_dict(prompt, jobs_of(prompt), show_text=may_read_text(request, prompt)))


@api_view("POST")
def cancel_job(request, public_id: str, model: str):
    """The job card's Cancel button for API clients: the client that submitted the prompt (the
    submission cookie it was given) or a moderator stops one model's job."""
    job = GenerationJob.objects.filter(prompt__public_id=public_id, model__slug=model).select_related("prompt").first()
    if job is None:
        raise ScreentestError("not_found", "That prompt has no job for that model.", status=404)
    if not may_cancel(request, job.prompt):
        raise ScreentestError(
            "cancel_not_allowed",
            "Only the client that submitted the prompt or a moderator may cancel its jobs.",
            status=403,
        )
    if not jobs.cancel(job.pk, by=canceller(request)):
        raise ScreentestError(
            "job_finished", f"The job has already ended: {job.get_state_display().lower()}.", status=409
        )
    job = GenerationJob.objects.select_related("model", "prompt").get(pk=job.pk)
    return JsonResponse(job_dict(job))


@api_view("GET")
def models(request):
    return JsonResponse(
        {
            "models": [
                {
                    "slug": m.slug,
                    "name": m.label,
                    "vendor": m.vendor,
                    "procedural_demo": m.is_procedural_demo,
                    "max_duration_s": m.max_duration_s,
                    "aspect_ratios": m.supported_aspect_ratios or list(ASPECT_RATIOS),
                }
                for m in VideoModel.objects.filter(enabled=True)
            ]
        }
    )
