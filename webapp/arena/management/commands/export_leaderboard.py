from django.core.management.base import BaseCommand, CommandError

from webapp.arena.management.output import output_stream
from webapp.arena.services import battle_export, board, leaderboard_export
from webapp.studio.models import Prompt


class Command(BaseCommand):
    help = "Write the latest leaderboard (JSON or CSV); --recompute computes a fresh one first."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=battle_export.FORMATS, default="json")
        parser.add_argument("--pool", choices=Prompt.Pool.values, default=Prompt.Pool.OFFICIAL)
        parser.add_argument("--category", default=board.ALL_CATEGORIES, help='one category (default "": all)')
        parser.add_argument("--recompute", action="store_true", help="compute a new snapshot first")
        parser.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")

    def handle(self, format, pool, category, recompute, output, **options):
        if len(category) > 48:
            raise CommandError("category is at most 48 characters")
        snapshot = None if recompute else board.latest(pool, category)
        if snapshot is None:
            snapshot = board.recompute(pool, category)
            self.stderr.write(
                f"computed a leaderboard for {pool}/{category or 'all'}: {snapshot.votes_counted} votes, "
                f"{len(snapshot.rows)} models, {snapshot.compute_seconds:.2f} s"
            )
        writer = leaderboard_export.write_json if format == "json" else leaderboard_export.write_csv_file
        try:
            with output_stream(output, self.stdout) as fh:
                writer(snapshot, fh)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc}") from exc
