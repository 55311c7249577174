"""Stored files that must go but could not be deleted when they should have been (the S3 media
storage was unreachable while a job cleaned up after a failure): noted in the database and
deleted by the reaper once the storage answers, unless a row has come to name the file."""

from __future__ import annotations

import logging

from django.apps import apps
from django.db import DatabaseError
from django.db.models import F, FileField

from webapp.core.storage import delete_stored

from ..models import UndeletedFile

log = logging.getLogger(__name__)


def discard(*names: str | None) -> None:
    """Delete stored files no row names; any the storage cannot delete now is noted for the
    reaper. Never raises: it runs while cleaning up after another failure."""
    for name in delete_stored(*names):
        try:
            UndeletedFile.objects.get_or_create(name=name)
        except DatabaseError:
            log.exception("could not note %s for a later delete; it stays stored", name)


def _named_by_a_row(name: str) -> bool:
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, FileField) and model._default_manager.filter(**{field.name: name}).exists():
                return True
    return False


def retry_deletions(limit: int = 200) -> int:
    """Beat's reaper: delete the noted files, least tried and oldest first; stop at the first
    the storage still refuses (it is most likely still away; one it refuses for good goes to
    the back, behind newer ones). Returns how many were deleted."""
    deleted = 0
    for row in UndeletedFile.objects.order_by("tries", "pk")[:limit]:
        if _named_by_a_row(row.name):  # never delete what a row names
            row.delete()
            continue
        if delete_stored(row.name):
            UndeletedFile.objects.filter(pk=row.pk).update(tries=F("tries") + 1)
            break
        row.delete()
        deleted += 1
    if deleted:
        log.info("deleted %d stored file%s left by a storage outage", deleted, "" if deleted == 1 else "s")
    return deleted
