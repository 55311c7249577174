"""(g) Vendor faults for every adapter against its fake (tests/fakes/), through a real Celery
worker: per round one job per adapter (the adapters in parallel, one job per fake at a time so a
fake's injected fault reaches that job only), one fault kind per round."""

from __future__ import annotations

import time

from benchmarks import fault_checks as checks

APP_JSON = {"Content-Type": "application/json"}
# Adapters whose vendor offers no way to find a create whose answer was lost (no idempotency key,
# no listing): such a job must stop as create_outcome_unknown rather than pay twice.
NO_WAY_TO_LOOK = {"runway", "fal", "google-veo", "luma-agents"}
# kind -> (how to inject: "flag" word in the prompt or a fail_next spec, the states that are right)
KINDS: dict[str, tuple[str | dict, set[str]]] = {
    "429_storm": ({"status": 429, "body": {"error": "rate limited"}, "headers": {"Retry-After": "1"}, "times": 2}, {"succeeded"}),
    # longer than JOB_MAX_ATTEMPTS (3): a 429 defers without using an attempt
    "429_storm_long": ({"status": 429, "body": {"error": "rate limited"}, "headers": {"Retry-After": "1"}, "times": 5}, {"succeeded"}),
    "5xx": ({"status": 503, "body": {"error": "service unavailable"}, "times": 2}, {"succeeded"}),
    "malformed_json": ({"status": 200, "raw": b'{"id": "abc", "sta', "headers": APP_JSON, "method": "GET"}, {"succeeded"}),
    "lost_create_answer": ({"status": 200, "lose_answer": True, "method": "POST"}, {"succeeded"}),
    "policy_refusal": ("policy", {"rejected_by_vendor"}),
    "policy_async": ("policy-async", {"rejected_by_vendor"}),
    "vendor_job_failed": ("fail", {"failed"}),
    "truncated_download": ("truncated", {"failed"}),
    "expired_download_url": ("expired", {"failed"}),
    "not_a_video": ("not-video", {"failed"}),
}  # fmt: skip


def wrong_code(job_id: int, code: str) -> list[str]:
    from webapp.studio.models import GenerationJob

    job = GenerationJob.objects.get(pk=job_id)
    return [] if job.error_code == code else [f"job {job_id} ended with {job.error_code!r}, not {code!r}"]


def make_job(model, text: str, seed: int) -> int:
    """A queued job written as submission writes it (rows, then the message after commit); direct,
    so the retired Sora entry's adapter is exercised too."""
    from django.db import transaction

    from webapp.studio.models import GenerationJob, JobState, Prompt
    from webapp.studio.services import queue

    duration = model.backend_params["durations"][0]
    with transaction.atomic():
        prompt = Prompt.objects.create(text=text, seed=seed, duration_s=duration, aspect_ratio="16:9")
        job = GenerationJob.objects.create(prompt=prompt, model=model, state=JobState.QUEUED)
        queue.enqueue(queue.GENERATE, job.pk)
    return job.pk


def expected(kind: str, key: str, expect: set[str]) -> set[str]:
    if kind == "lost_create_answer" and key in NO_WAY_TO_LOOK:
        return {"failed"}  # create_outcome_unknown, checked below: never a second paid job
    return expect


def selected_kinds(args) -> list[str]:
    """--vendor-kinds a,b (by name) or --kinds N (the first N); all by default."""
    if getattr(args, "vendor_kinds", ""):
        names = [name.strip() for name in args.vendor_kinds.split(",") if name.strip()]
        unknown = [name for name in names if name not in KINDS]
        if unknown:
            raise SystemExit(f"unknown vendor fault kinds {unknown}; known: {', '.join(KINDS)}")
        return names
    return list(KINDS)[: args.kinds or len(KINDS)]


def vendor_faults(args, stack, verdict) -> bool:
    from tests.fakes.all_vendors import catalog_entry, start_all, stop_all, worker_env
    from webapp.catalog.models import VideoModel

    fakes = start_all()
    try:
        models = {}
        for key, fake in fakes.items():
            entry = catalog_entry(key, fake)
            models[key] = VideoModel.objects.create(**entry)
        stack.start_beat()
        stack.worker(concurrency=4, env=worker_env(fakes))
        kinds = selected_kinds(args)
        ids, expect_of, took, paid_twice = [], {}, {}, []
        for r, kind in enumerate(kinds):
            how, expect = KINDS[kind]
            round_ids = []
            made_before = {key: len(fake.jobs) for key, fake in fakes.items()}
            for key, fake in fakes.items():
                if isinstance(how, dict):
                    fake.fail_next(
                        how["status"], how.get("body"), **{k: v for k, v in how.items() if k not in ("status", "body")}
                    )
                    text = f"a paper boat, {kind}"
                else:
                    text = f"a paper boat [[{how}]]"
                job_id = make_job(models[key], text, seed=100 + r)
                round_ids.append(job_id)
                expect_of[job_id] = (kind, key, expected(kind, key, expect))
            seconds = checks.wait_terminal(round_ids, timeout=args.timeout)
            took[kind] = seconds
            for fake in fakes.values():
                fake.faults.clear()
            ids += round_ids
            states = checks.states(round_ids)
            made = {key: len(fake.jobs) - made_before[key] for key, fake in fakes.items()}
            used = checks.attempts_of(round_ids)
            print(
                f"[vendor-faults] {kind}: {sorted(states.values())} in {seconds and f'{seconds:.1f} s'}; "
                f"generate attempts used: max {max(used.values(), default=0)}",
                flush=True,
            )
            if any(v > 1 for v in made.values()):
                print(f"[vendor-faults]   vendor jobs made for one job (more than 1 is paid twice): {made}")
                paid_twice += [f"{kind} x {key}: {n} vendor jobs" for key, n in made.items() if n > 1]
        ok_all = True
        n_ok = 0
        for job_id, (kind, key, expect) in expect_of.items():
            found = checks.job_problems(job_id, expect)
            if kind == "lost_create_answer" and key in NO_WAY_TO_LOOK:
                found += wrong_code(job_id, "create_outcome_unknown")
            n_ok += not found
            for line in found:
                print(f"[vendor-faults]   {kind} x {key}: {line}")
        print(
            f"[vendor-faults] {n_ok}/{len(expect_of)} adapter x fault runs ended correctly ({len(kinds)} kinds x {len(fakes)} adapters)"
        )
        print(
            f"[vendor-faults] paid twice (more than one vendor job for one of our jobs): {len(paid_twice)} {paid_twice}"
        )
        attempts = checks.attempts_of(ids)
        print(f"[vendor-faults] generate attempts used per job: max {max(attempts.values(), default=0)}")
        ok_all = verdict("vendor-faults", stack, ids, {"succeeded", "failed", "rejected_by_vendor"}) and n_ok == len(
            expect_of
        )
        ok_all = ok_all and not paid_twice
        return ok_all
    finally:
        stop_all(fakes)
        time.sleep(0.1)
