from django.core.management.base import BaseCommand

from webapp.arena.services import suite
from webapp.catalog.models import VideoModel
from webapp.catalog.services import load_catalog, load_claims
from webapp.studio.models import Prompt
from webapp.studio.services.submission import PromptInput, SubmissionError, submit_prompt

COMMUNITY_PROMPTS = [
    ("A red sun setting over calm ocean waves", 11),
    ("Neon city skyline at night with fast flying lights", 23),
    ("Slow golden leaves falling in an autumn forest", 37),
    ("A blue planet spinning among bright stars", 41),
]


class Command(BaseCommand):
    help = (
        "Load the catalog and the articles' claims and, on an empty arena, run the prompt suite's first prompt of each category on "
        "the procedural demo models (official pool) plus a few community prompts, so the gallery, the "
        "arena and the leaderboard have content at once. Demo models cost nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="add demo content even if prompts exist")

    def handle(self, force, **options):
        created, updated = load_catalog()
        self.stdout.write(f"catalog: {created} created, {updated} updated")
        # The articles' claims are what /models/compare and every model page set measurements against.
        self.stdout.write(f"feature claims: {load_claims()} loaded")
        if Prompt.objects.exists() and not force:
            self.stdout.write("prompts already exist; not adding demo content (use --force)")
            return
        demo_models = list(VideoModel.objects.filter(is_procedural_demo=True, enabled=True))
        settings, entries = suite.load_suite()
        first_per_category = list({e["category"]: e for e in reversed(entries)}.values())[::-1]
        jobs = 0
        for item in suite.plan(settings, first_per_category, demo_models):
            if item.needed:
                jobs += len(suite.submit_item(item))
        self.stdout.write(f"official pool: {len(first_per_category)} suite prompts, {jobs} demo jobs queued")
        for text, seed in COMMUNITY_PROMPTS:
            try:
                submit_prompt(PromptInput(text=text, seed=seed), source=Prompt.Source.SEED)
            except SubmissionError as exc:
                self.stderr.write(f"could not submit {text!r}: {exc.message}")
        self.stdout.write(f"community pool: {len(COMMUNITY_PROMPTS)} prompts queued")
