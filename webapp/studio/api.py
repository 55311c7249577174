"""JSON API: submit a prompt, read a prompt with its jobs and clips, list models.

Errors are {"error": {"code": ..., "message": ..., "field": ...}} with a 4xx status. POSTs are
CSRF-exempt but must be `application/json`, which a browser cannot send cross-site without a
CORS preflight that this site never answers.
"""

from __future__ import annotations

import json
from functools import wraps

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from webapp.catalog.models import VideoModel

from .models import ModerationState, Prompt
from .presenters import jobs_of, prompt_dict
from .services.submission import PromptInput, SubmissionError, submit_prompt
from .signals import named_results_viewed


def allow(*methods: str):
    """Like require_http_methods, but the 405 is a JSON error like every other."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error(405, "method_not_allowed", f"Use {' or '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


ALLOWED_FIELDS = {"prompt", "models", "duration_s", "aspect_ratio", "seed", "negative_prompt"}


def error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    body = {"code": code, "message": message}
    if field:
        body["field"] = field
    return JsonResponse({"error": body}, status=status)


@csrf_exempt
@allow("GET", "POST")
def prompts(request):
    if request.method == "GET":
        return _list_prompts(request)
    if not request.body:
        return error(400, "malformed_json", "The request body is empty; send a JSON object.")
    if request.content_type != "application/json":
        return error(415, "unsupported_media_type", "Send the prompt as application/json.")
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        return error(400, "malformed_json", f"The request body is not valid JSON: {exc}")
    if not isinstance(data, dict):
        return error(400, "malformed_json", "The request body must be a JSON object.")
    unknown = sorted(set(data) - ALLOWED_FIELDS)
    if unknown:
        return error(400, "unknown_field", f"Unknown field(s): {', '.join(unknown)}.", unknown[0])
    try:
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
        )
    except SubmissionError as exc:
        return error(422, exc.code, exc.message, exc.field)
    named_results_viewed.send(sender=prompts, request=request, prompts=[prompt])
    # 202: accepted but held for a moderator; nothing is generated before approval.
    status = 202 if prompt.moderation == ModerationState.HELD else 201
    response = JsonResponse(prompt_dict(prompt, jobs_of(prompt)), status=status)
    response["Location"] = request.build_absolute_uri(f"/api/v1/prompts/{prompt.public_id}")
    return response


def _list_prompts(request):
    page_number = request.GET.get("page", "1")
    if not page_number.isdigit() or int(page_number) < 1:
        return error(400, "invalid_page", "page must be a positive whole number")
    paginator = Paginator(
        Prompt.objects.filter(moderation=ModerationState.ALLOWED).prefetch_related("jobs__model", "jobs__clip"), 20
    )
    if int(page_number) > max(paginator.num_pages, 1):
        return error(404, "page_out_of_range", f"there are {paginator.num_pages} pages")
    page = paginator.page(int(page_number))
    named_results_viewed.send(sender=_list_prompts, request=request, prompts=list(page))
    return JsonResponse(
        {
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
            "results": [prompt_dict(p, sorted(p.jobs.all(), key=lambda j: j.model.display_name)) for p in page],
        }
    )


@allow("GET")
def prompt_detail(request, public_id: str):
    prompt = Prompt.objects.filter(public_id=public_id).first()
    if prompt is None:
        return error(404, "not_found", "No prompt has that id.")
    named_results_viewed.send(sender=prompt_detail, request=request, prompts=[prompt])
    return JsonResponse(prompt_dict(prompt, jobs_of(prompt)))


@allow("GET")
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
                    "aspect_ratios": m.supported_aspect_ratios or ["16:9", "9:16", "1:1"],
                }
                for m in VideoModel.objects.filter(enabled=True)
            ]
        }
    )
