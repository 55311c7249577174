"""A voter is the browser session plus a hashed IP. Raw IPs are never stored: both keys are
HMACs under the site's secret, so they can be compared but not reversed or linked elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError

from webapp.core.clients import client_ip, keyed_digest
from webapp.studio.models import Prompt

from ..models import NamedView


@dataclass(frozen=True)
class Voter:
    key: str
    ip_hash: str


def voter_for(request) -> Voter:
    # Load the session first: a cookie naming no stored session (expired, forged) must not
    # become a voter identity of its own, or rotating cookies would dodge per-voter limits.
    request.session.get("_voter")
    if not request.session.session_key:
        request.session.save()
    return Voter(
        key=keyed_digest("session", request.session.session_key), ip_hash=keyed_digest("ip", client_ip(request))
    )


def record_named_view(request, prompts: list[Prompt]) -> None:
    """This visitor saw these prompts' results with model names."""
    if not prompts:
        return
    voter = voter_for(request)
    try:
        NamedView.objects.bulk_create(
            [NamedView(voter_key=voter.key, prompt=p) for p in prompts], ignore_conflicts=True
        )
    except IntegrityError:  # a prompt deleted meanwhile
        pass
