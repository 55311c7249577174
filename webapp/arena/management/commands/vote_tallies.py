from django.core.management.base import BaseCommand, CommandError

from webapp.arena.services import tallies


class Command(BaseCommand):
    help = (
        "Check the trigger-kept vote tallies against a GROUP BY over every vote (--check, the "
        "default; exit status 1 on drift) or recount them from the votes (--rebuild)."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--check", action="store_true", help="compare only (default)")
        action.add_argument("--rebuild", action="store_true", help="recount every tally from the votes")

    def handle(self, check, rebuild, **options):
        if rebuild:
            rows = tallies.rebuild()
            self.stdout.write(f"rebuilt {rows} tally rows from the votes")
            return
        differences = tallies.drift()
        if not differences:
            self.stdout.write("vote tallies match the votes")
            return
        for key, (tallied, counted) in sorted(differences.items()):
            self.stdout.write(f"{'/'.join(map(str, key))}: tally {tallied}, votes {counted}")
        raise CommandError(f"{len(differences)} tally rows differ from the votes; run vote_tallies --rebuild")
