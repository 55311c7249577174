from django.core.management.base import BaseCommand, CommandError

from webapp.catalog import capabilities
from webapp.catalog.backend_status import backend_statuses, smoke_check
from webapp.catalog.models import VideoModel


class Command(BaseCommand):
    help = (
        "List every video backend, the models using it and whether its API key is configured on this "
        "machine. --check MODEL runs one short live generation through that model (may cost money)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            metavar="MODEL_SLUG",
            action="append",
            default=[],
            help="run a live smoke check with this model (repeatable)",
        )

    def handle(self, check, **options):
        for status in backend_statuses():
            keys = ", ".join(status.key_envs) or "none needed"
            state = "configured" if status.configured else "NOT configured"
            self.stdout.write(f"{status.key:12} {state:15} keys: {keys}")
            self.stdout.write(f"{'':12} endpoint: {status.base_url}")
            if status.missing_settings:
                self.stdout.write(f"{'':12} missing settings: {', '.join(status.missing_settings)}")
            self.stdout.write(f"{'':12} models: {', '.join(status.models) or '-'}")
        for entry in VideoModel.objects.order_by("slug"):
            retired = capabilities.retirement(entry)
            if retired:
                self.stdout.write(f"retired: {entry.slug} since {retired.since} ({retired.source})")
        for slug in check:
            model = VideoModel.objects.filter(slug=slug).first()
            if model is None or not model.backend_key:
                raise CommandError(f"no model {slug!r} with a backend")
            self.stdout.write(f"check {slug}: {smoke_check(model)}")
