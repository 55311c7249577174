"""The arena's JSON API: blind voting (fetch a battle, cast a vote), the battle export
(FastChat's clean-battle schema, in pages) and the leaderboard.

The voter is the session (cookie), as on the web page. Nothing in a battle's JSON names a
model until the vote is in. Errors and methods are handled by webapp/core/api.py.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone

from webapp.core.api import api_view, read_json_object
from webapp.core.errors import ScreentestError
from webapp.core.validation import NUMBER, STRING, Field, int_param
from webapp.studio.models import Prompt

from .models import BattleState, ExcludedReason, RatingSnapshot
from .services import battle_export, battles, board, leaderboard_export, proof_of_work
from .services.voters import Voter, current_voter, start_voting
from .services.votes import CHOICES, cast_vote

CONTENT_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8"}
FORMATS = battle_export.FORMATS
VOTER_FIELDS = {"challenge": Field(STRING, max_length=4096), "solution": Field(STRING, max_length=64)}
VOTE_FIELDS = {
    "token": Field(STRING, max_length=1024),
    "choice": Field(STRING, max_length=16),
    "watched_left_s": Field(NUMBER),
    "watched_right_s": Field(NUMBER),
}
CHOICE_OF_WINNER: dict[str, str] = {str(winner): choice for choice, winner in CHOICES.items()}
# Battle export pages: records per page by default and at most.
EXPORT_PAGE = 1000
EXPORT_PAGE_MAX = 5000


def _choice(request, name: str, choices, default: str) -> str:
    value = request.GET.get(name, default)
    if value not in choices:
        raise ScreentestError(f"invalid_{name}", f"{name} must be one of {', '.join(choices)}.", field=name)
    return value


# --- voting -----------------------------------------------------------------------------------


def _voter(request) -> Voter:
    voter = current_voter(request)
    if voter is None:
        raise ScreentestError(
            "voter_required",
            "Start voting first: solve GET /api/v1/voters/challenge and POST it to /api/v1/voters.",
            status=403,
        )
    return voter


def _battle_json(battle) -> dict:
    ready = battle.state in (BattleState.READY, BattleState.VOTED)
    return {
        "token": battles.sign(battle),
        "state": battle.state,
        "prompt": battle.prompt.text,
        "pool": battle.pool,
        "status_url": reverse("arena:api_battle", args=[battle.public_id]),
        "left": {"video_url": reverse("arena:media", args=[battle.public_id, "left"]) if ready else None},
        "right": {"video_url": reverse("arena:media", args=[battle.public_id, "right"]) if ready else None},
        "vote_url": reverse("arena:api_votes"),
        "choices": ["left", "right", "tie", "bothbad"],
        "counts": not battle.named,
    }


@api_view("GET")
def voter_challenge(request):
    """A proof-of-work challenge: find a decimal `solution` so that sha256(f"{nonce}:{solution}")
    starts with `bits` zero bits, then POST {"challenge", "solution"} to /api/v1/voters."""
    challenge = proof_of_work.issue()
    return JsonResponse({"challenge": challenge.token, "nonce": challenge.nonce, "bits": challenge.bits})


@api_view("POST")
def voters(request):
    """Become a voter (a session cookie) with a solved challenge."""
    data = read_json_object(request, VOTER_FIELDS)
    start_voting(request, data.get("challenge"), data.get("solution"))
    return JsonResponse({"voter": {"verified": True}}, status=201)


@api_view("GET", query={"pool"})
def next_battle(request):
    """The voter's next battle; the one they held is skipped. Its clips may still be preparing:
    poll its status_url until "state" is "ready"."""
    pool = _choice(request, "pool", Prompt.Pool.values, Prompt.Pool.OFFICIAL)
    battle = battles.next_battle(_voter(request), pool=pool)
    if battle is None:
        raise ScreentestError("no_battle", "No battle is waiting for you in this pool.", status=404)
    return JsonResponse({"battle": _battle_json(battle)})


@api_view("GET")
def battle_status(request, public_id: str):
    battle = battles.owned(public_id, current_voter(request))
    if battle is None:
        raise ScreentestError("not_found", "No battle of yours has that id.", status=404)
    return JsonResponse({"battle": _battle_json(battle)})


@api_view("POST")
def votes(request):
    data = read_json_object(request, VOTE_FIELDS)
    outcome = cast_vote(
        _voter(request),
        token=data.get("token"),
        choice=data.get("choice"),
        watched_left_s=data.get("watched_left_s"),
        watched_right_s=data.get("watched_right_s"),
    )
    vote = outcome.vote
    return JsonResponse(
        {
            "vote": {
                # A replay answers with the choice that was stored, whatever it sends now.
                "choice": CHOICE_OF_WINNER.get(vote.winner),
                "winner": vote.winner,
                "counted": vote.excluded_reason == ExcludedReason.COUNTED,
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


# --- exports ----------------------------------------------------------------------------------


@api_view("GET", query={"format", "pool", "after", "limit"})
def export_battles(request):
    """GET ?format=json|csv&pool=official|community|all&after=<vote_id>&limit=N: one page of
    the counted votes as clean-battle records, oldest first. The body is the page alone (a
    JSON array or a CSV file, as FastChat reads them); a `Link: <...>; rel="next"` header
    points at the next page while there is one."""
    fmt = _choice(request, "format", FORMATS, "json")
    pool = _choice(request, "pool", battle_export.POOL_CHOICES, battle_export.ALL_POOLS)
    after = int_param(request, "after", 0, minimum=0, maximum=2**63 - 1)
    limit = int_param(request, "limit", EXPORT_PAGE, maximum=EXPORT_PAGE_MAX)
    records, next_after = battle_export.page(pool, after=after, limit=limit)
    chunks = battle_export.iter_json(records) if fmt == "json" else battle_export.iter_csv(records)
    response = HttpResponse("".join(chunks), content_type=CONTENT_TYPES[fmt])
    if next_after is not None:
        query = urlencode({"format": fmt, "pool": pool, "after": next_after, "limit": limit})
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{query}>; rel="next"'
    if fmt == "csv":
        stamp = timezone.now().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="screentest-battles-{pool}-{stamp}-after-{after}.csv"'
    return response


@api_view("GET", query={"format", "pool", "category"})
def leaderboard(request):
    """GET ?pool=official&category=&format=json|csv: the latest computed leaderboard. A filter
    value the arena does not know is 400 (`invalid_pool`, `invalid_category`); a known one with
    no board computed yet is 404 `no_leaderboard`."""
    fmt = _choice(request, "format", FORMATS, "json")
    pool = _choice(request, "pool", Prompt.Pool.values, Prompt.Pool.OFFICIAL)
    category = request.GET.get("category", board.ALL_CATEGORIES)
    if category and not _known_category(category):
        raise ScreentestError("invalid_category", "No prompt of this arena has that category.", field="category")
    snapshot = board.latest(pool, category)
    if snapshot is None:
        in_category = f" in category {category!r}" if category else ""
        raise ScreentestError(
            "no_leaderboard", f"No leaderboard has been computed for the {pool} pool{in_category} yet.", status=404
        )
    if fmt == "json":
        return JsonResponse(leaderboard_export.document(snapshot), json_dumps_params={"ensure_ascii": False})
    response = HttpResponse(leaderboard_export.as_csv(snapshot), content_type=CONTENT_TYPES["csv"])
    name = "-".join(
        filter(
            None,
            ["screentest-leaderboard", pool, _filename_part(category), snapshot.created_at.strftime("%Y%m%d")],
        )
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _known_category(category: str) -> bool:
    if len(category) > Prompt._meta.get_field("category").max_length:  # type: ignore[operator]
        return False
    return (
        Prompt.objects.filter(category=category).exists() or RatingSnapshot.objects.filter(category=category).exists()
    )


def _filename_part(value: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in value)
