# Celery's Django pattern: importing the app here makes it the current app in every process
# that loads Django, so `shared_task`s bind to it and `send_task` reaches the configured broker.
from celery.signals import beat_init, worker_init
from django.core.exceptions import ImproperlyConfigured

from webapp.core.secret_key import require_strong_secret_key
from workers.celery import app as celery_app

__all__ = ("celery_app",)


@worker_init.connect
@beat_init.connect
def refuse_weak_secret_key(**kwargs) -> None:
    """A Celery worker or beat never starts on a public or weak SECRET_KEY with DEBUG off
    (connected here, which every worker and beat imports when it sets Django up, before either
    signal). SystemExit, because Celery logs and swallows an ordinary exception raised by a
    signal handler."""
    try:
        require_strong_secret_key()
    except ImproperlyConfigured as exc:
        raise SystemExit(f"celery: {exc}") from None
