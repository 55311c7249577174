"""JSON API for blind voting: fetch a battle, cast a vote. The voter is the session (cookie),
as on the web page. Nothing in a battle's JSON names a model until the vote is in."""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from webapp.studio.api import allow, error
from webapp.studio.models import Prompt

from .services import battles
from .services.battles import BattleTokenError
from .services.voters import voter_for
from .services.votes import VoteError, cast_vote


@allow("GET")
def next_battle(request):
    pool = request.GET.get("pool", Prompt.Pool.OFFICIAL)
    if pool not in Prompt.Pool.values:
        return error(400, "invalid_pool", f"pool must be one of {', '.join(Prompt.Pool.values)}", "pool")
    battle = battles.next_battle(voter_for(request), pool=pool)
    if battle is None:
        return error(404, "no_battle", "No battle is waiting for you in this pool.")
    return JsonResponse(
        {
            "battle": {
                "token": battles.sign(battle),
                "prompt": battle.prompt.text,
                "pool": battle.pool,
                "left": {"video_url": reverse("arena:media", args=[battle.public_id, "left"])},
                "right": {"video_url": reverse("arena:media", args=[battle.public_id, "right"])},
                "vote_url": reverse("api_votes"),
                "choices": ["left", "right", "tie", "bothbad"],
            }
        }
    )


@csrf_exempt  # JSON only: a cross-site form cannot send application/json without a preflight
@allow("POST")
def votes(request):
    if request.content_type != "application/json":
        return error(415, "unsupported_media_type", "Send the vote as application/json.")
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return error(400, "malformed_json", "The request body is not valid JSON.")
    if not isinstance(data, dict):
        return error(400, "malformed_json", "The request body must be a JSON object.")
    try:
        outcome = cast_vote(
            voter_for(request),
            token=data.get("token"),
            choice=data.get("choice"),
            watched_left_s=data.get("watched_left_s"),
            watched_right_s=data.get("watched_right_s"),
        )
    except BattleTokenError as exc:
        return error(410 if exc.code == "battle_expired" else 400, exc.code, exc.message, "token")
    except VoteError as exc:
        response = error(exc.status, exc.code, exc.message)
        if exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response
    vote = outcome.vote
    return JsonResponse(
        {
            "vote": {
                "choice": data.get("choice") if outcome.created else None,
                "winner": vote.winner,
                "counted": vote.excluded_reason == "",
                "excluded_reason": vote.excluded_reason or None,
                "replay": not outcome.created,
            },
            "reveal": {
                "left": {"model": vote.model_a.slug, "name": vote.model_a.label},
                "right": {"model": vote.model_b.slug, "name": vote.model_b.label},
            },
        },
        status=201 if outcome.created else 200,
    )
