"""Run the shipped prompt suite against chosen models: estimate, confirm, submit, show progress.
The rules (what runs, what it costs, idempotence) are in webapp/arena/services/suite.py."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from webapp.arena.services import suite
from webapp.arena.services.suite import SUITE_PATH, Item, SuiteError, load_suite
from webapp.catalog import pricing
from webapp.catalog.models import VideoModel
from webapp.studio.models import TERMINAL_STATES, GenerationJob, JobState
from webapp.studio.services.submission import SubmissionError

FAILED_STATES = (JobState.FAILED, JobState.REJECTED_BY_VENDOR, JobState.CANCELLED)


class ProgressBar:
    """A text bar on stderr: redrawn in place on a terminal, a line per tenth otherwise."""

    def __init__(self, stream, total: int, label: str, width: int = 30):
        self.stream, self.total, self.label, self.width = stream, max(total, 0), label, width
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.step: tuple[int, int] | None = None
        self.printed: str | None = None

    def show(self, done: int, failed: int = 0, *, final: bool = False) -> None:
        filled = self.width if not self.total else int(self.width * done / self.total)
        text = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} {self.label}"
        if failed:
            text += f", {failed} failed"
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""), ending="")
        else:
            step = (done * 10 // self.total if self.total else 10, failed)
            if (step != self.step or final) and text != self.printed:
                self.stream.write(text)
                self.printed = text
            self.step = step


class Command(BaseCommand):
    help = (
        "Run the prompt suite (official pool) against models: estimate the cost, confirm when it is over "
        "the budget or unknown, submit, and show progress until the jobs finish."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--models", help="comma-separated model slugs (default: every enabled model)")
        parser.add_argument("--categories", help="comma-separated suite categories (default: all)")
        parser.add_argument("--limit", type=int, help="only the first N prompts (after --categories)")
        parser.add_argument("--budget", type=float, default=5.00, help="USD; above it, ask first (default 5.00)")
        parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--dry-run", action="store_true", help="print the plan and estimate, submit nothing")
        parser.add_argument("--no-wait", action="store_true", help="do not wait for the jobs to finish")
        parser.add_argument("--timeout", type=float, default=0, help="stop waiting after this many seconds (0: never)")
        parser.add_argument("--suite", default=str(SUITE_PATH), help="suite file (default: the shipped suite)")

    def handle(self, *args, **options):
        try:
            self._run(options)
        except SuiteError as exc:
            raise CommandError(str(exc)) from exc

    def _run(self, options):
        stdin = options.get("stdin") or sys.stdin
        settings, entries = load_suite(Path(options["suite"]))
        models = self._models(options["models"])
        categories = (
            None
            if options["categories"] is None
            else [c.strip() for c in options["categories"].split(",") if c.strip()]
        )
        entries = suite.select(entries, categories, options["limit"])
        items = suite.plan(settings, entries, models)
        unknown_price = self._estimate(items, models, options["budget"])
        jobs = sum(len(item.needed) for item in items)
        estimate = suite.cost(items)
        needs_confirmation = estimate > options["budget"] or bool(unknown_price)
        if options["dry_run"]:
            note = " (a real run would ask for confirmation: over budget or unknown cost)" if needs_confirmation else ""
            self.stdout.write(f"dry run: nothing submitted{note}")
            return
        if not jobs:
            self.stdout.write("nothing to submit: every selected prompt already ran on every selected model")
            return
        if needs_confirmation and not options["yes"]:
            why = (
                f"the estimate ${estimate:.2f} is over the budget ${options['budget']:.2f}"
                if estimate > options["budget"]
                else "the cost of some jobs is unknown"
            )
            if not (hasattr(stdin, "isatty") and stdin.isatty()):
                raise CommandError(
                    f"Not submitting: {why} and there is no terminal to confirm on. "
                    "Re-run with --yes to accept, or raise --budget."
                )
            self.stderr.write(f"{why.capitalize()}. Proceed? [y/N] ", ending="")
            self.stderr.flush()
            if stdin.readline().strip().lower() not in ("y", "yes"):
                self.stdout.write("cancelled: nothing submitted")
                return
        job_ids = self._submit(items)
        self.stdout.write(f"submitted {len(job_ids)} jobs for {sum(1 for i in items if i.needed)} suite prompts")
        if not options["no_wait"] and job_ids:
            self._wait(job_ids, options["timeout"])

    # ---------------------------------------------------------------------------------------

    def _models(self, value: str | None) -> list[VideoModel]:
        if value is None:
            models = list(VideoModel.objects.filter(enabled=True).exclude(backend_key="").order_by("slug"))
            if not models:
                raise CommandError("no model is enabled")
            return models
        slugs = list(dict.fromkeys(s.strip() for s in value.split(",") if s.strip()))
        if not slugs:
            raise CommandError("--models names no model")
        found = {m.slug: m for m in VideoModel.objects.filter(slug__in=slugs)}
        unknown = [s for s in slugs if s not in found]
        if unknown:
            raise CommandError(f"unknown model: {', '.join(unknown)}")
        unusable = [s for s in slugs if not found[s].enabled or not found[s].backend_key]
        if unusable:
            raise CommandError(f"disabled or without a backend (cannot generate): {', '.join(unusable)}")
        return [found[s] for s in slugs]

    def _estimate(self, items: list[Item], models: list[VideoModel], budget: float) -> list[str]:
        """Print the plan; returns the slugs of models without a price that have jobs to run."""
        self.stdout.write(f"{len(items)} suite prompts × {len(models)} models")
        unknown = []
        for model in models:
            jobs = [item for item in items if model in item.needed]
            seconds = sum(item.duration_s for item in jobs)
            skipped = sum(1 for item in items if model not in item.needed)
            price = pricing.price_per_second(model)
            if price is None and jobs:
                unknown.append(model.slug)
            cost = (
                f"unknown (no {pricing.PRICE_KEY})"
                if price is None
                else f"${sum(pricing.estimate_usd(model, item.duration_s) or 0.0 for item in jobs):.2f}"
            )
            self.stdout.write(
                f"  {model.slug:<24} {len(jobs):>4} jobs  {seconds:>7g} s  {cost}"
                + (f"  ({skipped} already ran, skipped)" if skipped else "")
            )
        total_jobs = sum(len(item.needed) for item in items)
        unknown_jobs = sum(1 for item in items for m in item.needed if pricing.price_per_second(m) is None)
        line = f"estimated cost: ${suite.cost(items):.2f} for {total_jobs - unknown_jobs} jobs"
        if unknown_jobs:
            line += f" + unknown for {unknown_jobs} jobs on models without a price ({', '.join(unknown)})"
        self.stdout.write(line + f"; budget ${budget:.2f}")
        return unknown

    def _submit(self, items: list[Item]) -> list[int]:
        todo = [item for item in items if item.needed]
        bar = ProgressBar(self.stderr, len(todo), "prompts submitted")
        bar.show(0)
        job_ids: list[int] = []
        for n, item in enumerate(todo, start=1):
            try:
                job_ids += suite.submit_item(item)
            except SubmissionError as exc:
                bar.show(n - 1, final=True)
                raise CommandError(
                    f"{item.entry['id']}: {exc.message} (the prompts before it were submitted; "
                    "re-running continues where this stopped)"
                ) from exc
            bar.show(n, final=n == len(todo))
        return job_ids

    def _wait(self, job_ids: list[int], timeout: float) -> None:
        bar = ProgressBar(self.stderr, len(job_ids), "jobs done")
        deadline = time.monotonic() + timeout if timeout > 0 else None
        jobs = GenerationJob.objects.filter(pk__in=job_ids)
        try:
            while True:
                states = dict(jobs.values_list("state").annotate(n=Count("id")).order_by())
                done = sum(states.get(s, 0) for s in TERMINAL_STATES)
                failed = sum(states.get(s, 0) for s in FAILED_STATES)
                if done >= len(job_ids):
                    bar.show(done, failed, final=True)
                    break
                bar.show(done, failed)
                if deadline is not None and time.monotonic() >= deadline:
                    bar.show(done, failed, final=True)
                    self.stdout.write(
                        f"stopped waiting after {timeout:g} s; {len(job_ids) - done} jobs are still "
                        "running in the background"
                    )
                    return
                time.sleep(1)
        except KeyboardInterrupt:
            self.stderr.write("")
            self.stdout.write("stopped waiting; the jobs continue in the background")
            return
        self.stdout.write(f"all {len(job_ids)} jobs finished: {done - failed} succeeded, {failed} failed")
