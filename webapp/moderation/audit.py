"""Writing and reading the audit log. Every moderation decision and every policy outcome goes
through `record`; the log is append-only (models.AuditEntry refuses changes)."""

from __future__ import annotations

import csv
import io
import json

from django.db.models import QuerySet

from webapp.core.csv_cells import neutralise_row
from webapp.policy import screening

from .models import AuditEntry

POLICY = "policy"
CSV_COLUMNS = ["created_at", "actor", "action", "target_kind", "target_id", "reason", "before", "after"]


def record(
    action: str,
    target_kind: str,
    target_id: str,
    *,
    actor=None,
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    label = POLICY if actor is None else (actor.get_username() or f"user {actor.pk}")
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=label,
        action=action,
        target_kind=target_kind,
        target_id=target_id or "",
        reason=reason[:4000],
        before=before or {},
        after=after or {},
    )


POLICY_ACTIONS = {
    screening.ALLOW: AuditEntry.Action.POLICY_ALLOW,
    screening.HOLD: AuditEntry.Action.POLICY_HOLD,
    screening.REJECT: AuditEntry.Action.POLICY_REJECT,
}


def record_screening(verdict: screening.Verdict, prompt, fields: dict, source: str) -> AuditEntry:
    """The prompt policy's outcome for one submission (`prompt` is None when it was rejected:
    nothing was stored, so the entry keeps the text)."""
    after = {
        "outcome": verdict.outcome,
        "findings": [f.as_dict() for f in verdict.findings],
        "prompt": fields["text"][:500],
        "source": source,
    }
    if prompt is not None:
        after["moderation"] = prompt.moderation
    return record(
        POLICY_ACTIONS[verdict.outcome],
        AuditEntry.TargetKind.PROMPT,
        prompt.public_id if prompt is not None else "",
        reason="; ".join(verdict.reasons),
        after=after,
    )


def filtered(params) -> QuerySet[AuditEntry]:
    """Staff filters: action, target kind, target id, actor (username or 'policy'), date range."""
    entries = AuditEntry.objects.all()
    if params.get("action") in AuditEntry.Action.values:
        entries = entries.filter(action=params["action"])
    if params.get("target_kind") in AuditEntry.TargetKind.values:
        entries = entries.filter(target_kind=params["target_kind"])
    if params.get("target_id"):
        entries = entries.filter(target_id=params["target_id"].strip())
    if params.get("actor"):
        entries = entries.filter(actor_label=params["actor"].strip())
    for key, lookup in (("since", "created_at__date__gte"), ("until", "created_at__date__lte")):
        value = params.get(key, "")
        if value and len(value) == 10 and value[4] == "-" and value[7] == "-" and value.replace("-", "").isdigit():
            entries = entries.filter(**{lookup: value})
    return entries


def as_csv_rows(entries):
    """Yields CSV lines (header first) for a streaming response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(CSV_COLUMNS)
    for entry in entries.iterator(chunk_size=500):
        yield line(
            neutralise_row(  # a username, a reason or a prompt must not run as a spreadsheet formula
                [
                    entry.created_at.isoformat(),
                    entry.actor_label,
                    entry.action,
                    entry.target_kind,
                    entry.target_id,
                    entry.reason,
                    json.dumps(entry.before, sort_keys=True),
                    json.dumps(entry.after, sort_keys=True),
                ]
            )
        )
