import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from webapp.arena.models import RatingSnapshot
from webapp.arena.services import board, refresh, tallies
from webapp.studio.models import Prompt


class Command(BaseCommand):
    help = (
        "Compute leaderboard snapshots now: by default what the beat task does (re-apply hidden "
        "clips to votes, test new voters for outliers, then every pool and category), or one pool "
        "(overall and per category), or one pool and category."
    )

    def add_arguments(self, parser):
        parser.add_argument("--pool", choices=Prompt.Pool.values, help="only this pool")
        parser.add_argument("--category", help='only this category of --pool ("" for the overall board)')
        parser.add_argument("--rounds", type=int, help="bootstrap rounds (default: RATING_BOOTSTRAP_ROUNDS)")

    def handle(self, pool, category, rounds, **options):
        if category is not None and pool is None:
            raise CommandError("--category needs --pool")
        if rounds is not None and rounds < 1:
            raise CommandError("--rounds must be positive")
        started_at, started = timezone.now(), time.perf_counter()
        if pool is None and rounds is None:
            refresh.refresh_boards()  # what the periodic task does
            snapshots = list(RatingSnapshot.objects.filter(created_at__gte=started_at).order_by("id"))
        else:
            pools = [pool] if pool else Prompt.Pool.values
            snapshots = []
            for name in pools:
                if category is not None:
                    categories = [category]
                else:
                    categories = [board.ALL_CATEGORIES, *tallies.categories(name)]
                snapshots += [board.recompute(name, c, rounds=rounds) for c in categories]
        for s in snapshots:
            self.stdout.write(
                f"{s.pool}/{s.category or 'all'}: {s.votes_counted} votes, {len(s.rows)} models listed, "
                f"{s.bootstrap_rounds} rounds, {s.compute_seconds:.2f} s"
            )
        self.stdout.write(f"{len(snapshots)} leaderboards computed in {time.perf_counter() - started:.2f} s")
