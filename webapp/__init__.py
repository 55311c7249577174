# Celery's Django pattern: importing the app here makes it the current app in every process
# that loads Django, so `shared_task`s bind to it and `send_task` reaches the configured broker.
from workers.celery import app as celery_app

__all__ = ("celery_app",)
