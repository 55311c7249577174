import sys

from django.core.management.base import BaseCommand, CommandError

from webapp.arena.services import battle_import
from webapp.studio.models import Prompt

SHOW_ERRORS = 50


class Command(BaseCommand):
    help = (
        "Import FastChat clean-battle records (JSON array or JSON Lines; model_a, model_b and winner "
        "required). Unknown models are created disabled; re-importing a file adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the JSON / JSON Lines file ('-' for stdin)")
        parser.add_argument("--pool", choices=Prompt.Pool.values, default=Prompt.Pool.OFFICIAL)
        parser.add_argument("--category", default="", help="category of records that do not name one")
        parser.add_argument(
            "--include-named",
            action="store_true",
            help="also import battles whose model names were shown (anony false)",
        )
        parser.add_argument("--strict", action="store_true", help="import nothing if any record is invalid")

    def handle(self, file, pool, category, include_named, strict, **options):
        source = (getattr(sys.stdin, "buffer", sys.stdin)) if file == "-" else file
        try:
            report = battle_import.import_battles(
                source, pool=pool, default_category=category, include_named=include_named, strict=strict
            )
        except battle_import.ImportFormatError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for issue in report.errors[:SHOW_ERRORS]:
            self.stderr.write(f"  {issue}")
        if len(report.errors) > SHOW_ERRORS:
            self.stderr.write(f"  ... and {len(report.errors) - SHOW_ERRORS} more errors")
        self.stdout.write(f"{file} -> {pool} pool: {report.summary()} ({report.seconds:.1f} s)")
        if report.aborted:
            raise CommandError(f"{len(report.errors)} invalid records; nothing imported (--strict)")
