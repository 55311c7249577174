"""Reports from visitors. The review queue that works them is the moderation issue's."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from webapp.studio.models import Clip, Prompt

from .models import Report


class ReportError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


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
