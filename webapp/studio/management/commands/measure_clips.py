"""Measure the clips whose measurements are older than MEASUREMENTS_VERSION (or missing), with
progress: here in this process (--here), or by sending a bounded batch to the media queue."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.studio.services import measurements


class Command(BaseCommand):
    help = "Measure clips measured by an older version of docs/metrics.md (or never), with progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=measurements.RECOMPUTE_BATCH, help="clips at most")
        parser.add_argument("--here", action="store_true", help="measure in this process instead of the media queue")

    def handle(self, *args, limit: int, here: bool, **options) -> None:
        if limit < 1:
            raise CommandError("--limit must be at least 1")
        if not here:
            result = measurements.send_outdated(limit)
            self.stdout.write(f"sent {result['sent']} clips to the media queue; {result['outdated']} still outdated")
            return
        ids = list(measurements.outdated().order_by("pk").values_list("pk", flat=True)[:limit])
        for done, clip_id in enumerate(ids, start=1):
            values = measurements.measure_stored_clip(clip_id)
            state = (
                "skipped" if values is None else ("failed" if all(v is None for v in values.values()) else "measured")
            )
            self.stdout.write(f"[{done}/{len(ids)}] clip {clip_id}: {state}")
        self.stdout.write(f"{measurements.outdated().count()} clips still outdated")
