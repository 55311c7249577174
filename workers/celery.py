"""The Celery app (`celery -A workers.celery worker`). Configuration comes from Django's
settings (CELERY_* names); each Django app's tasks live in its own tasks.py, found by
autodiscovery, so this module knows no app."""

import os
from logging.config import dictConfig

from celery import Celery
from celery.signals import setup_logging
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("screentest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def ensure_broker_folders(sender: Celery, **kwargs) -> None:
    """kombu's filesystem transport (the embedded default) needs its folders to exist, in the
    processes that send as well as in those that consume."""
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        folder = (sender.conf.broker_transport_options or {}).get(key)
        if folder:
            os.makedirs(folder, exist_ok=True)


@setup_logging.connect
def use_django_logging(**kwargs) -> None:
    """Celery logs through Django's LOGGING, like the web processes."""
    dictConfig(settings.LOGGING)
