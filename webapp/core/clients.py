"""Who is asking: the client's address as this deployment can know it."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the first X-Forwarded-For entry when TRUST_X_FORWARDED_FOR is set
    (behind the compose nginx)."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def keyed_digest(kind: str, value: str, length: int = 40) -> str:
    """An HMAC under the site secret: identities (sessions, addresses, judges) can be compared
    but not reversed or linked to another site."""
    return hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:length]
