import time

from django.core.management.base import BaseCommand, CommandError

from webapp.arena.services import interop


class Command(BaseCommand):
    help = (
        "Export votes as FastChat clean-battle records (JSON array or CSV): by default the counted votes "
        "of every pool, judges pseudonymised."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=interop.FORMATS, default="json")
        parser.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
        parser.add_argument("--pool", choices=interop.POOL_CHOICES, default=interop.ALL_POOLS)
        parser.add_argument(
            "--include-excluded",
            action="store_true",
            help="also export votes that do not count (their excluded_reason says why)",
        )

    def handle(self, format, output, pool, include_excluded, **options):
        started = time.perf_counter()
        records = interop.battle_records(interop.export_queryset(pool, include_excluded=include_excluded))
        writer = interop.write_json if format == "json" else interop.write_csv
        try:
            with interop.output_stream(output, self.stdout) as fh:
                count = writer(records, fh)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc}") from exc
        self.stderr.write(
            f"exported {count} votes ({pool} pool{'s' if pool == 'all' else ''}"
            f"{', excluded included' if include_excluded else ''}) as {format}"
            f"{'' if output in ('', '-') else ' to ' + output} in {time.perf_counter() - started:.1f} s"
        )
