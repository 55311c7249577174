"""Reports from visitors, on any page; the review queue (review_queue.py) works them."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from webapp.core.errors import ScreentestError
from webapp.studio.models import Clip, Prompt

from .models import Report


class ReportError(ScreentestError):
    """A report that cannot be taken (unknown reason)."""


def report(
    *, reporter_key: str, reason: str, note: str = "", clip: Clip | None = None, prompt: Prompt | None = None
) -> tuple[Report, bool]:
    """Returns (report, created); a repeated report by the same reporter is not counted again."""
    if reason not in Report.Reason.values:
        raise ReportError("invalid_reason", f"reason must be one of {', '.join(Report.Reason.values)}")
    note = " ".join(str(note or "").split())[:500]
    lookup = (
        {"reporter_key": reporter_key, "clip": clip}
        if clip
        else {"reporter_key": reporter_key, "prompt": prompt, "clip": None}
    )
    existing = Report.objects.filter(**lookup).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            return Report.objects.create(
                reason=reason, note=note, **lookup, **({"prompt": clip.job.prompt} if clip else {})
            ), True
    except IntegrityError:
        return Report.objects.get(**lookup), False
