"""Arena pages: the blind battle, the vote and its reveal, battle media, the leaderboard."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from webapp.core.errors import ScreentestError
from webapp.core.file_responses import serve_stored_file
from webapp.core.storage import name_of
from webapp.studio.models import Prompt

from .models import Battle, RatingSnapshot
from .services import battles, board
from .services.voters import voter_for
from .services.votes import cast_vote

SIDES = ("left", "right")


def _pool(request) -> str:
    pool = request.GET.get("pool", Prompt.Pool.OFFICIAL)
    return pool if pool in Prompt.Pool.values else Prompt.Pool.OFFICIAL


@require_GET
def battle_page(request):
    pool = _pool(request)
    battle = battles.next_battle(voter_for(request), pool=pool)
    context = {
        "battle": battle,
        "token": battles.sign(battle) if battle else "",
        "pool": pool,
        "pools": Prompt.Pool.choices,
    }
    if request.htmx and battle:
        return render(request, "arena/_battle.html", context)
    return render(request, "arena/battle.html", context)


@require_http_methods(["GET", "HEAD"])
def battle_media(request, public_id: str, side: str):
    """A battle's clip under the battle's own opaque URL: nothing in it names the model, and
    it differs from the clip's URL in the named gallery."""
    if side not in SIDES:
        raise Http404()
    battle = Battle.objects.select_related("left", "right").filter(public_id=public_id).first()
    if battle is None:
        raise Http404()
    clip = battle.left if side == "left" else battle.right
    if battle.left.hidden or battle.right.hidden:  # a moderator hid one: the battle is withdrawn
        raise Http404()
    return serve_stored_file(
        request, name_of(clip.web), cache_control="private, max-age=3600", blind_as=f"{battle.public_id}:{side}"
    )


@require_POST
def vote(request):
    voter = voter_for(request)
    try:
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
    battle = vote.battle
    context = {
        "vote": vote,
        "battle": battle,
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
    scale = _interval_scale(rows)
    for row in rows:
        row["bar"] = _bar(row, scale) if scale else None
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
        },
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
        maps.append({"title": title, "columns": [names.get(m, m) for m in models], "rows": rows})
    return maps
