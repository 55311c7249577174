from django.core.management.base import BaseCommand

from webapp.catalog.services import load_catalog
from webapp.studio.models import Prompt
from webapp.studio.services.submission import PromptInput, SubmissionError, submit_prompt

DEMO_PROMPTS = [
    ("A red sun setting over calm ocean waves", 11),
    ("Neon city skyline at night with fast flying lights", 23),
    ("Slow golden leaves falling in an autumn forest", 37),
    ("A blue planet spinning among bright stars", 41),
    ("Snow drifting over a quiet mountain village", 53),
    ("A green bird flying over a river at dawn", 67),
]


class Command(BaseCommand):
    help = "Load the catalog and, on an empty arena, submit a few demo prompts to the demo models."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="submit the demo prompts even if prompts exist")

    def handle(self, force, **options):
        created, updated = load_catalog()
        self.stdout.write(f"catalog: {created} created, {updated} updated")
        if Prompt.objects.exists() and not force:
            self.stdout.write("prompts already exist; not adding demo prompts (use --force)")
            return
        for text, seed in DEMO_PROMPTS:
            try:
                prompt = submit_prompt(PromptInput(text=text, seed=seed), source=Prompt.Source.SEED)
            except SubmissionError as exc:
                self.stderr.write(f"could not submit {text!r}: {exc.message}")
                continue
            self.stdout.write(f"queued {prompt.public_id}: {text}")
