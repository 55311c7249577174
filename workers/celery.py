"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import setup_logging, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("screentest", include=["workers.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")


def ensure_broker_folders() -> None:
    """kombu's filesystem transport (the embedded default) needs its folders to exist."""
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        folder = (app.conf.broker_transport_options or {}).get(key)
        if folder:
            os.makedirs(folder, exist_ok=True)


ensure_broker_folders()


@setup_logging.connect
def use_django_logging(**kwargs):
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@worker_ready.connect
def recover_own_orphans(sender=None, **kwargs):
    """A worker that starts under a node name can hold no live job yet, so any lease still
    recorded for that name belongs to a previous incarnation that died: free it now rather
    than waiting for the lease to run out."""
    from webapp.studio.services import jobs

    jobs.release_leases_of_node(sender.hostname)
