"""A voter is the browser session plus a hashed IP. Raw IPs are never stored: both keys are
HMACs under the site's secret, so they can be compared but not reversed or linked elsewhere."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError

from webapp.studio.models import Prompt


@dataclass(frozen=True)
class Voter:
    key: str
    ip_hash: str


def _digest(kind: str, value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:40]


def client_ip(request) -> str:
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def voter_for(request) -> Voter:
    # Load the session first: a cookie naming no stored session (expired, forged) must not
    # become a voter identity of its own, or rotating cookies would dodge per-voter limits.
    request.session.get("_voter")
    if not request.session.session_key:
        request.session.save()
    return Voter(key=_digest("session", request.session.session_key), ip_hash=_digest("ip", client_ip(request)))


def record_named_view(sender, request, prompts: list[Prompt], **kwargs) -> None:
    """Receiver of studio's named_results_viewed signal."""
    from ..models import NamedView

    if not prompts:
        return
    voter = voter_for(request)
    try:
        NamedView.objects.bulk_create(
            [NamedView(voter_key=voter.key, prompt=p) for p in prompts], ignore_conflicts=True
        )
    except IntegrityError:  # a prompt deleted meanwhile
        pass
