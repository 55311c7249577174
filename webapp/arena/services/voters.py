"""Who a voter is. A logged-in user is their account; anyone else is a browser session that
paid the proof-of-work entry fee (proof_of_work.py), at most ARENA_NEW_VOTERS_PER_IP_PER_HOUR
new ones per address an hour. Raw addresses and session keys are never stored: keys are HMACs
under the site's secret, so they can be compared but not reversed or linked elsewhere.

Nothing here writes for a visitor who is not voting: pages that show model names record a
named view only for an existing voter, and a visitor becomes one only by starting to vote.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.utils import timezone

from webapp.core import ratelimit
from webapp.core.clients import client_ip, keyed_digest
from webapp.core.errors import ScreentestError
from webapp.core.tasks import TaskRoute
from webapp.studio.models import Prompt

from ..models import NamedView
from . import proof_of_work

VERIFIED = "arena_voter"  # session flag: this session passed the entry check
CLEAR_EXPIRED_SESSIONS = TaskRoute("arena.clear_expired_sessions")
HOUR_S = 3600


@dataclass(frozen=True)
class Voter:
    key: str
    ip_hash: str
    logged_in: bool = False


def _ip_hash(request) -> str:
    return keyed_digest("ip", client_ip(request))


def current_voter(request) -> Voter | None:
    """The voter making this request, or None for a visitor who has not started voting.
    Writes nothing."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Voter(key=keyed_digest("user", str(user.pk)), ip_hash=_ip_hash(request), logged_in=True)
    session = request.session
    if session.session_key and session.get(VERIFIED):
        return Voter(key=keyed_digest("session", session.session_key), ip_hash=_ip_hash(request))
    return None


def start_voting(request, token, solution) -> Voter:
    """Make this browser a voter: the solved challenge is redeemed, the session is created (a
    fresh key) and marked. Raises ScreentestError (429 past the per-address limit)."""
    existing = current_voter(request)
    if existing is not None:
        return existing
    proof_of_work.redeem(token, solution)
    wait = ratelimit.hit(
        ratelimit.Limit(f"arena-new-voter:ip:{_ip_hash(request)}", settings.ARENA_NEW_VOTERS_PER_IP_PER_HOUR, HOUR_S)
    )
    if wait is not None:
        raise ScreentestError(
            "too_many_new_voters",
            "Too many new voters from your network this hour. Try again later.",
            status=429,
            retry_after=wait,
        )
    request.session.cycle_key()
    request.session[VERIFIED] = True
    request.session.save()
    voter = current_voter(request)
    assert voter is not None
    return voter


def visitor_key(request) -> str:
    """A key for a visitor who does something worth keeping (a report): the voter's key, or
    their session's (created now if needed)."""
    voter = current_voter(request)
    if voter is not None:
        return voter.key
    request.session.get("_touch")  # a cookie naming no stored session must not become a key
    if not request.session.session_key:
        request.session.save()
    return keyed_digest("session", request.session.session_key)


def record_named_view(request, prompts: list[Prompt]) -> None:
    """A voter saw these prompts' results with model names (their later votes on them are kept
    but not counted). Visitors who are not voting leave no row."""
    voter = current_voter(request)
    if voter is None or not prompts:
        return
    try:
        NamedView.objects.bulk_create(
            [NamedView(voter_key=voter.key, prompt=p) for p in prompts], ignore_conflicts=True
        )
    except IntegrityError:  # a prompt deleted meanwhile
        pass


def clear_expired_sessions(batch: int = 1000) -> int:
    """Periodic (beat): delete the sessions past their expiry (Django never purges them by
    itself; this is its clearsessions, run on a schedule) and, with each, the record of which
    prompts that anonymous voter saw with names: nothing can link those rows to anyone once the
    session is gone, so they are kept no longer. Returns the number of sessions deleted."""
    cutoff = timezone.now()
    deleted = 0
    while keys := list(Session.objects.filter(expire_date__lt=cutoff).values_list("session_key", flat=True)[:batch]):
        with transaction.atomic():
            NamedView.objects.filter(voter_key__in=[keyed_digest("session", key) for key in keys]).delete()
            deleted += Session.objects.filter(session_key__in=keys).delete()[0]
    return deleted
