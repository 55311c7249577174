from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from webapp.catalog.services import DEFAULT_CATALOG, CatalogError, load_catalog, load_claims


class Command(BaseCommand):
    help = "Create or update video models from a catalog JSON file (default: the shipped catalog)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_CATALOG))
        parser.add_argument(
            "--reset-enabled", action="store_true", help="also apply the file's enabled flags to existing models"
        )

    def handle(self, path, reset_enabled, **options):
        try:
            created, updated = load_catalog(Path(path), keep_enabled_flag=not reset_enabled)
        except CatalogError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"catalog: {created} created, {updated} updated")
        if path == str(DEFAULT_CATALOG):  # the shipped catalog comes with the articles' feature table
            try:
                claims = load_claims()
            except CatalogError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"feature claims: {claims} loaded")
