"""JSON API of the arena: battle export (FastChat clean-battle schema) and the leaderboard.

Errors use studio's shape, {"error": {"code", "message", "field"}}. Exports are streamed.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone

from webapp.studio.api import allow, error
from webapp.studio.models import Prompt

from .services import board, interop

CONTENT_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


def _choice(request, name: str, choices, default: str) -> tuple[str | None, JsonResponse | None]:
    value = request.GET.get(name, default)
    if value not in choices:
        return None, error(400, f"invalid_{name}", f"{name} must be one of {', '.join(choices)}.", name)
    return value, None


@allow("GET")
def export_battles(request):
    """GET ?format=json|csv&pool=official|community|all: the counted votes as clean-battle records."""
    fmt, problem = _choice(request, "format", interop.FORMATS, "json")
    if problem:
        return problem
    pool, problem = _choice(request, "pool", interop.POOL_CHOICES, interop.ALL_POOLS)
    if problem:
        return problem
    records = interop.battle_records(interop.export_queryset(pool))
    chunks = interop.iter_json(records) if fmt == "json" else interop.iter_csv(records)
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[fmt])
    if fmt == "csv":
        stamp = timezone.now().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="screentest-battles-{pool}-{stamp}.csv"'
    return response


@allow("GET")
def leaderboard(request):
    """GET ?pool=official&category=&format=json|csv: the latest computed leaderboard."""
    fmt, problem = _choice(request, "format", interop.FORMATS, "json")
    if problem:
        return problem
    pool, problem = _choice(request, "pool", Prompt.Pool.values, Prompt.Pool.OFFICIAL)
    if problem:
        return problem
    category = request.GET.get("category", board.ALL_CATEGORIES)
    if len(category) > 48 or any(ord(ch) < 32 for ch in category):
        return error(400, "invalid_category", "category must be at most 48 printable characters.", "category")
    snapshot = board.latest(pool, category)
    if snapshot is None:
        return error(
            404,
            "no_leaderboard",
            f"No leaderboard has been computed for the {pool} pool"
            f"{f' in category {category!r}' if category else ''} yet.",
        )
    if fmt == "json":
        return JsonResponse(interop.leaderboard_document(snapshot), json_dumps_params={"ensure_ascii": False})
    response = HttpResponse(interop.leaderboard_csv(snapshot), content_type=CONTENT_TYPES["csv"])
    name = "-".join(
        filter(None, ["screentest-leaderboard", pool, _filename_part(category), snapshot.created_at.strftime("%Y%m%d")])
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _filename_part(value: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in value)
