"""The site secret signs sessions, CSRF tokens and battle tokens, and keys every identity
digest (core/clients.py): a known or guessable one lets anyone forge all of them. So with
DEBUG off the processes refuse to start on the development default or on a key Django's
deploy check calls weak (security.W009: shorter than 50 characters, fewer than 5 distinct
characters, or Django's `django-insecure-` prefix).

The refusal runs where a process starts serving (webapp/wsgi.py, webapp/asgi.py, manage.py,
the Celery worker and beat via workers/celery.py), not when settings are imported, so tools
that only read the settings (the type checker, the test runner) need no key.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT_KEY = "dev-only-insecure-key-change-me"
HOW_TO = (
    "Set SECRET_KEY (or SECRET_KEY_FILE) to a long random value, e.g. "
    '`python3 -c "import secrets; print(secrets.token_urlsafe(50))"` (scripts/up.sh makes one in var/secret_key).'
)


def weakness(key: str) -> str | None:
    """Why `key` must not sign anything in production, or None when it may."""
    if not key or key == DEVELOPMENT_KEY:
        return "SECRET_KEY is not set: the built-in development key is public"
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"SECRET_KEY starts with {SECRET_KEY_INSECURE_PREFIX!r} (a generated development key)"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"SECRET_KEY has {len(key)} characters; at least {SECRET_KEY_MIN_LENGTH} are needed"
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"SECRET_KEY has fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS} distinct characters"
    return None


def require_strong_secret_key() -> None:
    """Raise ImproperlyConfigured when DEBUG is off and the key is weak."""
    if settings.DEBUG:
        return
    problem = weakness(settings.SECRET_KEY)
    if problem:
        raise ImproperlyConfigured(f"Refusing to start: {problem}. {HOW_TO}")
