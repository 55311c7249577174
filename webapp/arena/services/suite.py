"""The shipped prompt suite (data/prompt_suite.json): what a run must do, what it costs, and
submitting it. Suite prompts run with fixed settings and form the official pool.

Runs are idempotent: a suite prompt that already ran on a model is not sent again (not paid
twice); a model new to the suite gets its job added to the existing suite prompt, so its clips
meet the other models' clips in battles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from webapp.catalog import pricing
from webapp.catalog.models import VideoModel
from webapp.core.errors import ScreentestError
from webapp.studio.models import GenerationJob, Prompt
from webapp.studio.services import queue
from webapp.studio.services.submission import PromptInput, SubmissionError, submit_prompt, validate

SUITE_PATH = Path(__file__).resolve().parents[1] / "data" / "prompt_suite.json"


class SuiteError(ScreentestError):
    """A suite file or a run that cannot go ahead; nothing of it is submitted."""

    def __init__(self, message: str):
        super().__init__("invalid_suite", message)


def load_suite(path: Path = SUITE_PATH) -> tuple[dict, list[dict]]:
    """(settings, prompts) of a suite file, checked."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        settings, prompts = doc.get("settings", {}), doc["prompts"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SuiteError(f"{path}: not a prompt suite file ({exc})") from exc
    if doc.get("version") != 1 or not isinstance(settings, dict) or not isinstance(prompts, list):
        raise SuiteError(f"{path}: expected version 1 with a settings object and a prompts list")
    ids, texts = set(), set()
    for n, entry in enumerate(prompts):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("id"), str)
            and isinstance(entry.get("text"), str)
            and isinstance(entry.get("category"), str)
            and isinstance(entry.get("seed"), int)
        ):
            raise SuiteError(f"{path}: prompt {n} needs a string id, category and text and an integer seed")
        text = " ".join(entry["text"].split())
        if entry["id"] in ids or text in texts:
            raise SuiteError(f"{path}: prompt {entry['id']} repeats an id or a text")
        ids.add(entry["id"])
        texts.add(text)
    return settings, prompts


@dataclass
class Item:
    """One suite prompt and what this run has to do for it."""

    entry: dict
    text: str
    duration_s: float
    aspect_ratio: str
    seed: int
    existing: Prompt | None
    needed: list[VideoModel] = field(default_factory=list)  # chosen models that have not run it yet

    def as_input(self) -> PromptInput:
        return PromptInput(
            text=self.text,
            models=[m.slug for m in self.needed],
            duration_s=self.duration_s,
            aspect_ratio=self.aspect_ratio,
            seed=self.seed,
        )


def select(entries: list[dict], categories: list[str] | None = None, limit: int | None = None) -> list[dict]:
    if categories is not None:
        known = sorted({e["category"] for e in entries})
        unknown = [c for c in categories if c not in known]
        if not categories or unknown:
            raise SuiteError(f"unknown category: {', '.join(unknown) or '(none)'}; the suite has {', '.join(known)}")
        entries = [e for e in entries if e["category"] in categories]
    if limit is not None:
        if limit < 1:
            raise SuiteError("the limit must be at least 1")
        entries = entries[:limit]
    return entries


def plan(settings: dict, entries: list[dict], models: list[VideoModel]) -> list[Item]:
    """What each suite prompt still needs from the chosen models; validated up front."""
    texts = [" ".join(e["text"].split()) for e in entries]
    existing: dict[str, Prompt] = {}
    for prompt in Prompt.objects.filter(source=Prompt.Source.SUITE, text__in=texts).order_by("created_at", "id"):
        existing.setdefault(prompt.text, prompt)
    ran: dict[str, set[int]] = {}
    for text, model_id in GenerationJob.objects.filter(
        prompt__source=Prompt.Source.SUITE, prompt__text__in=texts
    ).values_list("prompt__text", "model_id"):
        ran.setdefault(text, set()).add(model_id)
    items, problems = [], []
    for entry, text in zip(entries, texts):
        earlier = existing.get(text)
        if earlier:  # a model new to the suite gets exactly the request the others got
            duration, aspect, seed = earlier.duration_s, earlier.aspect_ratio, earlier.seed
        else:
            duration = entry.get("duration_s", settings.get("duration_s", 4))
            aspect = entry.get("aspect_ratio", settings.get("aspect_ratio", "16:9"))
            seed = entry["seed"]
        item = Item(entry, text, duration_s=duration, aspect_ratio=aspect, seed=seed, existing=earlier)
        done = ran.get(text, set())
        item.needed = [m for m in models if m.pk not in done]
        if item.needed:
            try:
                validate(item.as_input())
            except SubmissionError as exc:
                problems.append(f"{entry['id']}: {exc.message}")
        items.append(item)
    if problems:
        raise SuiteError("the suite cannot run on these models:\n  " + "\n  ".join(problems))
    return items


def cost(items: list[Item]) -> float:
    """USD for every job the items still need; jobs on models without a known price count 0."""
    return sum(pricing.estimate_usd(m, item.duration_s) or 0.0 for item in items for m in item.needed)


def submit_item(item: Item) -> list[int]:
    """Send one suite prompt to the models it still needs; returns the new job ids."""
    with transaction.atomic():  # the jobs are enqueued on commit, after pool/category are set
        if item.existing is None:
            prompt = submit_prompt(item.as_input(), source=Prompt.Source.SUITE)
            Prompt.objects.filter(pk=prompt.pk).update(pool=Prompt.Pool.OFFICIAL, category=item.entry["category"])
            return list(prompt.jobs.values_list("pk", flat=True))
        validate(item.as_input())
        Prompt.objects.filter(pk=item.existing.pk).update(pool=Prompt.Pool.OFFICIAL, category=item.entry["category"])
        created = GenerationJob.objects.bulk_create(GenerationJob(prompt=item.existing, model=m) for m in item.needed)
        queue.enqueue_many(queue.GENERATE, [job.pk for job in created])
        return [job.pk for job in created]
