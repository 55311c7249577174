"""Arena pages: the blind battle, the vote and its reveal, battle media, the leaderboard."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING  # 286: htmx stops polling the element

from webapp.core.errors import ScreentestError
from webapp.core.file_responses import serve_stored_file
from webapp.studio.models import Clip, Prompt

from .models import Battle, BattleState, RatingSnapshot
from .services import agreement_export, battles, board, proof_of_work
from .services.voters import current_voter, start_voting
from .services.votes import cast_vote

SIDES = ("left", "right")


def _pool(request) -> str:
    pool = request.GET.get("pool", Prompt.Pool.OFFICIAL)
    return pool if pool in Prompt.Pool.values else Prompt.Pool.OFFICIAL


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, template, {"pools": Prompt.Pool.choices, **context}, status=status)


@require_GET
def battle_page(request):
    """The voter's next battle (the one they held is skipped). A visitor who has not started
    voting gets the start page, which runs the browser check; nothing is stored for them."""
    pool = _pool(request)
    voter = current_voter(request)
    if voter is None:
        return _page(request, "arena/start.html", {"pool": pool, "challenge": proof_of_work.issue()})
    try:
        battle = battles.next_battle(voter, pool=pool)
    except ScreentestError as exc:
        response = _page(request, "arena/battle.html", {"pool": pool, "refusal": exc.message}, status=exc.status)
        if exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response
    context = {"battle": battle, "token": battles.sign(battle) if battle else "", "pool": pool}
    if request.htmx and battle:
        return render(request, "arena/_battle.html", context)
    return _page(request, "arena/battle.html", context)


@require_POST
def start(request):
    """The start page posts its solved challenge here: this browser becomes a voter."""
    pool = _pool(request)
    try:
        start_voting(request, request.POST.get("challenge"), request.POST.get("solution"))
    except ScreentestError as exc:
        return _page(
            request,
            "arena/start.html",
            {"pool": pool, "challenge": proof_of_work.issue(), "refusal": exc.message},
            status=exc.status,
        )
    return redirect(f"{reverse('arena:battle')}?pool={pool}")


@require_GET
def battle_status(request, public_id: str):
    """Polled while a battle's clips are being prepared: the battle once ready (htmx stops
    polling), a message if it could not be prepared."""
    battle = battles.owned(public_id, current_voter(request))
    if battle is None:
        raise Http404()
    context = {"battle": battle, "token": battles.sign(battle), "pool": battle.pool}
    response = render(request, "arena/_battle.html", context)
    if battle.state != BattleState.PREPARING and request.htmx:
        response.status_code = HTMX_STOP_POLLING
    return response


@require_http_methods(["GET", "HEAD"])
def battle_media(request, public_id: str, side: str):
    """One side of the voter's battle: the battle's own rendition, under the battle's opaque
    URL, with the same headers whichever model made it (no name, date or size of its own).
    The first fetch of each side starts the clock a vote is checked against."""
    if side not in SIDES:
        raise Http404()
    battle = battles.owned(public_id, current_voter(request))
    if battle is None or battle.state not in (BattleState.READY, BattleState.VOTED):
        raise Http404()
    if Clip.objects.filter(pk__in=(battle.left_id, battle.right_id), hidden=True).exists():
        raise Http404()  # a moderator hid one of its clips: the battle is withdrawn
    media = battle.left_media if side == "left" else battle.right_media
    if not media.name:
        raise Http404()
    Battle.objects.filter(pk=battle.pk, **{f"{side}_fetched_at__isnull": True}).update(
        **{f"{side}_fetched_at": timezone.now()}
    )
    return serve_stored_file(
        request, media.name, cache_control="private, max-age=3600", blind_as=f"{battle.public_id}:{side}"
    )


@require_POST
def vote(request):
    voter = current_voter(request)
    try:
        if voter is None:
            raise ScreentestError("voter_required", "Start voting first: open the arena page.", status=403)
        outcome = cast_vote(
            voter,
            token=request.POST.get("token", ""),
            choice=request.POST.get("choice", ""),
            watched_left_s=request.POST.get("watched_left_s"),
            watched_right_s=request.POST.get("watched_right_s"),
        )
    except ScreentestError as exc:
        response = render(request, "arena/_vote_error.html", {"message": exc.message}, status=exc.status)
        # Keep the form on the page (a rate-limited voter can try again); show the message.
        response["HX-Retarget"] = "#vote-message"
        response["HX-Reswap"] = "innerHTML"
        return response
    vote = outcome.vote
    context = {
        "vote": vote,
        "battle": vote.battle,
        "replay": not outcome.created,
        "left_model": vote.model_a,
        "right_model": vote.model_b,
        "pool": vote.pool,
    }
    template = "arena/_reveal.html" if request.htmx else "arena/reveal_page.html"
    return render(request, template, context)


@require_GET
def leaderboard_page(request):
    pool = _pool(request)
    category = request.GET.get("category", "")
    snapshot = board.latest(pool, category)
    categories = sorted(
        RatingSnapshot.objects.filter(pool=pool).exclude(category="").values_list("category", flat=True).distinct()
    )
    rows = snapshot.rows if snapshot else []
    analysis = snapshot.analysis if snapshot else {}
    controlled = analysis.get("controlled") or {}
    controlled_rows = controlled.get("rows", [])
    scale = _interval_scale(rows + controlled_rows)
    names = {row["model"]: row["name"] for row in rows}
    raw_rank = {row["model"]: n for n, row in enumerate(rows, 1)}
    for row in rows:
        row["bar"] = _bar(row, scale) if scale else None
    for n, row in enumerate(controlled_rows, 1):
        row["bar"] = _bar(row, scale) if scale else None
        row["name"] = names.get(row["model"], row["model"])
        row["moved"] = raw_rank.get(row["model"], n) - n  # > 0: higher than on the raw board
    return render(
        request,
        "arena/leaderboard.html",
        {
            "snapshot": snapshot,
            "rows": rows,
            "pool": pool,
            "pools": Prompt.Pool.choices,
            "category": category,
            "categories": categories,
            "heatmaps": _heatmaps(snapshot),
            "controlled": controlled,
            "controlled_rows": controlled_rows,
            "prompts": analysis.get("prompts") or {},
            "names": names,
            "min_votes": settings.LEADERBOARD_MIN_VOTES,
            "preliminary_below": settings.LEADERBOARD_PRELIMINARY_BELOW,
        },
    )


def _board_choice(request):
    pool = _pool(request)
    category = request.GET.get("category", "")
    return pool, category, board.latest(pool, category)


@require_GET
def agreement_page(request):
    """How well each automatic measurement agrees with the votes; ?format=json|csv exports it."""
    pool, category, snapshot = _board_choice(request)
    fmt = request.GET.get("format", "html")
    if fmt in ("json", "csv"):
        if snapshot is None:
            return JsonResponse({"error": "no_leaderboard", "detail": "No board has been computed yet."}, status=404)
        if fmt == "json":
            return JsonResponse(agreement_export.document(snapshot), json_dumps_params={"ensure_ascii": False})
        response = HttpResponse(agreement_export.as_csv(snapshot), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="screentest-agreement-{pool}.csv"'
        return response
    if fmt != "html":
        return JsonResponse({"error": "invalid_format", "detail": "format must be html, json or csv."}, status=400)
    rows = snapshot.analysis.get("agreement", []) if snapshot else []
    return _page(
        request, "arena/agreement.html", {"snapshot": snapshot, "rows": rows, "pool": pool, "category": category}
    )


@require_GET
def prompt_boards_page(request):
    """A board per prompt, with intervals, most-voted prompts first."""
    pool, category, snapshot = _board_choice(request)
    prompts = (snapshot.analysis.get("prompts") or {}) if snapshot else {}
    names = {row["model"]: row["name"] for row in snapshot.rows} if snapshot else {}
    for entry in prompts.get("boards", []):
        for row in entry["rows"]:
            row["name"] = names.get(row["model"], row["model"])
    return _page(
        request,
        "arena/prompt_boards.html",
        {"snapshot": snapshot, "prompts": prompts, "pool": pool, "category": category},
    )


def _interval_scale(rows) -> tuple[float, float] | None:
    if not rows:
        return None
    low, high = min(r["lower"] for r in rows), max(r["upper"] for r in rows)
    pad = max((high - low) * 0.05, 5)
    return low - pad, high + pad


def _bar(row: dict, scale: tuple[float, float]) -> dict:
    """The interval bar in SVG units (0-100 across the cell): where the interval starts, its
    width, and the score's 1-unit marker."""
    low, high = scale

    def at(value: float) -> float:
        return (value - low) / (high - low) * 100

    lower, upper = at(row["lower"]), at(row["upper"])
    return {"lower": lower, "width": max(upper - lower, 0.0), "point": at(row["score"]) - 0.5}


def _legend(key: str, peak: float) -> dict:
    """What a heatmap's colours mean: the shade classes from lowest to highest, and their ends."""
    if key == "win_rate":
        return {
            "shades": [f"wr-{i}" for i in range(11)],
            "low": "0% (row model always lost)",
            "high": "100% (always won)",
            "note": "50% is an even match; a blank cell: no battles between the two.",
        }
    return {
        "shades": [f"bt-{i}" for i in range(11)],
        "low": "0",
        "high": f"{int(peak)} battles",
        "note": "Brighter: more battles between the two models.",
    }


def _heatmaps(snapshot) -> list[dict]:
    """Pairwise matrices as coloured table cells (server-rendered, no charting library); the
    colour is one of eleven shade classes in site.css."""
    if not snapshot or not snapshot.pairwise.get("models"):
        return []
    models = snapshot.pairwise["models"]
    names = {row["model"]: row["name"] for row in snapshot.rows}
    maps = []
    for key, title in (
        ("win_rate", "Win rate of the row model against the column model"),
        ("battles", "Battles between each pair"),
    ):
        matrix = snapshot.pairwise.get(key)
        if matrix is None:
            continue
        peak = max((v for line in matrix for v in line if v is not None), default=0) or 1
        rows = []
        for i, model in enumerate(models):
            cells = []
            for j, value in enumerate(matrix[i]):
                if i == j or value is None:
                    cells.append({"text": "", "shade": ""})
                elif key == "win_rate":
                    cells.append({"text": f"{value:.0%}", "shade": f"wr-{round(10 * value)}"})
                else:
                    cells.append({"text": str(int(value)), "shade": f"bt-{round(10 * value / peak)}"})
            rows.append({"model": names.get(model, model), "cells": cells})
        maps.append(
            {"title": title, "columns": [names.get(m, m) for m in models], "rows": rows, "legend": _legend(key, peak)}
        )
    return maps
