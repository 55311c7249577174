import time

from django.core.management.base import BaseCommand, CommandError

from webapp.arena.management.output import output_stream
from webapp.arena.services import battle_export


class Command(BaseCommand):
    help = (
        "Export votes as FastChat clean-battle records (JSON array or CSV): by default the counted votes "
        "of every pool, judges pseudonymised."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=battle_export.FORMATS, default="json")
        parser.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
        parser.add_argument("--pool", choices=battle_export.POOL_CHOICES, default=battle_export.ALL_POOLS)
        parser.add_argument(
            "--include-excluded",
            action="store_true",
            help="also export votes that do not count (their excluded_reason says why)",
        )

    def handle(self, format, output, pool, include_excluded, **options):
        started = time.perf_counter()
        records = battle_export.battle_records(battle_export.export_queryset(pool, include_excluded=include_excluded))
        writer = battle_export.write_json if format == "json" else battle_export.write_csv
        try:
            with output_stream(output, self.stdout) as fh:
                count = writer(records, fh)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc}") from exc
        self.stderr.write(
            f"exported {count} votes ({pool} pool{'s' if pool == 'all' else ''}"
            f"{', excluded included' if include_excluded else ''}) as {format}"
            f"{'' if output in ('', '-') else ' to ' + output} in {time.perf_counter() - started:.1f} s"
        )
