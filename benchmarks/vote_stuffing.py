"""Vote stuffing against the running stack (gunicorn + PostgreSQL + Redis + an arena Celery
worker), as the hostile voter of issue 11 would try it, with the product's default limits.

Run: .venv/bin/python benchmarks/vote_stuffing.py [--seconds 120] [--identities 16] [--prompts 12]

Two attacks, each from an address of its own (the stack trusts 127.0.0.1 as its proxy, and the
attacker's "proxy" sets X-Forwarded-For as the compose nginx does from $remote_addr):

1. Cookie rotation: the attacker starts as many voter identities as it can (each pays the
   proof-of-work entry check at the product's difficulty), then votes with all of them in
   parallel as fast as the server's watch clock allows (fetch both clips, wait out the clip,
   vote). Reported: identities obtained of those tried, votes cast, votes counted, why the
   others were not, against ARENA_COUNTED_VOTES_PER_IP_PER_HOUR. The run is shorter than an
   hour, so counted votes above the hourly cap would be a failure.
2. Selective favouring with an oracle: the attacker wants one model to win, and is told (from
   the database: better than any real attacker's guess) which model is on which side as soon
   as a battle is served. It votes for its model whenever it is in the battle and skips every
   other battle at once. Reported: battles served, the share that held the model, against the
   share uniform sampling gives (2/K), and counted votes for the model, against that share of
   the battles served. Skipping cannot make the model appear more often, so what the attacker
   gains per address is bounded by ARENA_BATTLES_PER_IP_PER_HOUR x its share.

Data: the demo models' clips of --prompts prompts, made by the real pipeline in this process,
rendered for battles by the worker in a small shape (ARENA_CANVAS_SHORT_SIDE=72, 12 fps, 2 s
clips: the rules do not depend on the shape). Scratch database and Redis prefix as in
vote_load.py, removed at the end. Exit status 1 when counted votes exceed the cap or the
favoured model's counted votes exceed its share of the battles served by more than 10%.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.scratch_stack import (  # noqa: E402
    Teardown,
    close_django_connections,
    create_database,
    make_env,
    spawn,
    start_gunicorn,
    tail,
)

ROTATION_ADDRESS = "203.0.113.10"
SELECTIVE_ADDRESS = "203.0.113.20"
CLIP_SECONDS = 2
READY_WAIT_S = 60


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120, help="length of each attack (at most 600)")
    parser.add_argument("--identities", type=int, default=16, help="voter identities the rotation attacker tries")
    parser.add_argument("--prompts", type=int, default=12, help="prompts, each made by every demo model")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    args.seconds = min(args.seconds, 600)
    # what start_gunicorn reads
    args.app, args.workers, args.threads, args.worker_class = "webapp.wsgi:application", 3, 2, "gthread"
    return args


def stack_env(args, td: Teardown) -> dict[str, str]:
    env = make_env(args, td.dbname, td.prefix, td.tmpdir)
    for benchmark_only in ("VOTE_RATE_PER_MINUTE", "VOTE_RATE_PER_IP_PER_MINUTE"):
        env.pop(benchmark_only)  # the product's own limits apply here
    env.update(
        TRUSTED_PROXIES="127.0.0.1",
        ARENA_CANVAS_SHORT_SIDE="72",
        ARENA_FPS="12",
        CELERY_WORKER_CONCURRENCY="2",
    )
    return env


def make_clips(n_prompts: int) -> list[str]:
    from webapp.catalog.models import VideoModel
    from webapp.catalog.services import load_catalog
    from webapp.studio.models import JobState, Prompt
    from webapp.studio.services import pipeline
    from webapp.studio.services.submission import PromptInput, submit_prompt

    load_catalog()
    for n in range(n_prompts):
        prompt = submit_prompt(
            PromptInput(text=f"stuffing prompt {n}: a lighthouse in a storm", duration_s=CLIP_SECONDS)
        )
        Prompt.objects.filter(pk=prompt.pk).update(pool="official")
        for job in prompt.jobs.all():
            pipeline.generate_step(job.pk, owner="bench pid 1")
            pipeline.media_step(job.pk, owner="bench pid 1")
        if set(prompt.jobs.values_list("state", flat=True)) != {JobState.SUCCEEDED}:
            raise SystemExit("clip generation failed")
    return sorted(VideoModel.objects.filter(jobs__state=JobState.SUCCEEDED).values_list("slug", flat=True).distinct())


def start_worker(env: dict, td: Teardown) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "celery", "-A", "workers.celery", "worker", "-Q", "arena", "-c", "2"]
    cmd += ["-n", f"stuffing-{os.getpid()}", "--without-mingle", "--without-gossip", "--loglevel", "WARNING"]
    return spawn(cmd, env, td, td.tmpdir / "worker.log")


# --- the attacker's browser ----------------------------------------------------------------------


class Voter:
    def __init__(self, base: str, address: str):
        self.http = httpx.Client(base_url=base, headers={"X-Forwarded-For": address}, timeout=30, trust_env=False)

    def start(self) -> bool:
        """Pay the entry check; False when the address may start no more voters this hour."""
        from webapp.arena.services import proof_of_work  # the browser's solver, in Python

        challenge = self.http.get("/api/v1/voters/challenge").json()
        solution = proof_of_work.solve(challenge["nonce"], challenge["bits"])
        answer = self.http.post("/api/v1/voters", json={"challenge": challenge["challenge"], "solution": solution})
        if answer.status_code not in (201, 429):
            raise SystemExit(f"POST /api/v1/voters answered {answer.status_code}: {answer.text[:300]}")
        return answer.status_code == 201

    def next_battle(self) -> tuple[int, dict]:
        answer = self.http.get("/api/v1/battles/next")
        return answer.status_code, answer.json().get("battle") or answer.json().get("error", {})

    def ready(self, battle: dict) -> dict | None:
        deadline = time.monotonic() + READY_WAIT_S
        while battle["state"] == "preparing" and time.monotonic() < deadline:
            time.sleep(0.2)
            battle = self.http.get(battle["status_url"]).json()["battle"]
        return battle if battle["state"] == "ready" else None

    def watch_and_vote(self, battle: dict, choice: str) -> dict:
        started = time.monotonic()
        for side in ("left", "right"):
            self.http.get(battle[side]["video_url"]).raise_for_status()
        time.sleep(max(0.0, CLIP_SECONDS - (time.monotonic() - started)))
        answer = self.http.post("/api/v1/votes", json={"token": battle["token"], "choice": choice})
        body = answer.json()
        return {"status": answer.status_code, **body.get("vote", {}), "error": body.get("error", {}).get("code")}


def public_id(battle: dict) -> str:
    return battle["status_url"].rstrip("/").rsplit("/", 1)[1]


# --- attack 1: cookie rotation -------------------------------------------------------------------


def rotation(base: str, args) -> dict:
    voters = [Voter(base, ROTATION_ADDRESS) for _ in range(args.identities)]
    started = [v for v in voters if v.start()]
    outcomes: list[dict] = []
    refusals: Counter = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds
    rng = random.Random(args.seed)

    def vote_until_deadline(voter: Voter) -> None:
        while time.monotonic() < deadline:
            status, battle = voter.next_battle()
            if status != 200:
                with lock:
                    refusals[battle.get("code", status)] += 1
                if status == 429:
                    time.sleep(min(float(battle.get("retry_after", 1) or 1), max(0.0, deadline - time.monotonic())))
                    continue
                return
            ready = voter.ready(battle)
            if ready is None:
                continue
            outcome = voter.watch_and_vote(ready, rng.choice(["left", "right", "tie", "bothbad"]))
            with lock:
                outcomes.append(outcome)
                if outcome["status"] == 429:
                    refusals["vote rate_limited"] += 1

    with ThreadPoolExecutor(max_workers=max(1, len(started))) as pool:
        list(pool.map(vote_until_deadline, started))
    stored = [o for o in outcomes if o["status"] == 201]
    return {
        "tried": len(voters),
        "identities": len(started),
        "votes": len(stored),
        "counted": sum(1 for o in stored if o.get("counted")),
        "excluded": Counter(o.get("excluded_reason") for o in stored if not o.get("counted")),
        "refusals": refusals,
    }


# --- attack 2: selective favouring with an oracle -------------------------------------------------


def selective(base: str, args, favoured: str) -> dict:
    from webapp.arena.models import Battle

    voter = Voter(base, SELECTIVE_ADDRESS)
    assert voter.start(), "the selective attacker's first identity was refused"
    served = with_favoured = counted_for_it = votes = 0
    refusals: Counter = Counter()
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        status, battle = voter.next_battle()
        if status != 200:
            refusals[battle.get("code", status)] += 1
            if status == 429 or battle.get("code") == "no_battle":
                break
            continue
        served += 1
        close_django_connections()  # the oracle reads what the server just wrote
        held = Battle.objects.select_related("left__job__model", "right__job__model").get(public_id=public_id(battle))
        sides = {"left": held.left.job.model.slug, "right": held.right.job.model.slug}
        if favoured not in sides.values():
            continue  # asking for the next battle skips this one
        with_favoured += 1
        ready = voter.ready(battle)
        if ready is None:
            continue
        outcome = voter.watch_and_vote(ready, "left" if sides["left"] == favoured else "right")
        if outcome["status"] == 201:
            votes += 1
            counted_for_it += bool(outcome.get("counted"))
        else:
            refusals[f"vote {outcome['error']}"] += 1
    return {
        "served": served,
        "with_favoured": with_favoured,
        "votes": votes,
        "counted_for_it": counted_for_it,
        "refusals": refusals,
    }


def main() -> int:
    args = parse_args()
    pid = os.getpid()
    td = Teardown(f"screentest_votebench_{pid}", f"votebench-{pid}", Path(tempfile.mkdtemp(prefix=f"stuffing-{pid}-")))
    try:
        env = stack_env(args, td)
        os.environ.update(env)
        create_database(td)
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        began = time.monotonic()
        models = make_clips(args.prompts)
        print(f"setup: {args.prompts} prompts x {len(models)} models {models}, {time.monotonic() - began:.0f} s")
        close_django_connections()
        _, base, _ = start_gunicorn(args, dict(os.environ), td, td.tmpdir / "gunicorn.log")
        worker = start_worker(dict(os.environ), td)
        print(
            f"limits: {settings.ARENA_NEW_VOTERS_PER_IP_PER_HOUR} new voters, {settings.ARENA_BATTLES_PER_IP_PER_HOUR} "
            f"battles and {settings.ARENA_COUNTED_VOTES_PER_IP_PER_HOUR} counted votes per address per hour; "
            f"entry check {settings.ARENA_POW_BITS} bits; {settings.VOTE_RATE_PER_MINUTE} votes/min per voter"
        )

        first = rotation(base, args)
        cap = settings.ARENA_COUNTED_VOTES_PER_IP_PER_HOUR
        print(f"\n1. cookie rotation from one address, {args.seconds:.0f} s:")
        print(f"   identities: {first['identities']} of {first['tried']} tried")
        print(f"   votes stored {first['votes']}, counted {first['counted']} (cap {cap}/hour)")
        print(f"   not counted: {dict(first['excluded'])}; refused: {dict(first['refusals'])}")

        favoured = models[0]
        second = selective(base, args, favoured)
        share = second["with_favoured"] / max(1, second["served"])
        uniform = 2 / len(models)
        allowed = second["served"] * uniform
        print(f"\n2. selective favouring of {favoured} with an oracle, {args.seconds:.0f} s:")
        print(
            f"   battles served {second['served']}, with {favoured}: {second['with_favoured']} ({100 * share:.0f}%; uniform {100 * uniform:.0f}%)"
        )
        print(
            f"   counted votes for {favoured}: {second['counted_for_it']} of {second['votes']} cast; its uniform share of the battles served: {allowed:.1f} (ratio {second['counted_for_it'] / max(allowed, 1e-9):.2f})"
        )
        print(f"   refused: {dict(second['refusals'])}")
        per_hour = settings.ARENA_BATTLES_PER_IP_PER_HOUR * uniform
        print(
            f"   most it can gain per address and hour: {per_hour:.0f} counted votes (battle cap x uniform share), and at most {cap}"
        )
        if worker.poll() is not None:
            print(f"the arena worker died:\n{tail(td.tmpdir / 'worker.log')}")
            return 1
        failed = first["counted"] > cap or second["counted_for_it"] > 1.1 * allowed + 1
        print("\nFAILED" if failed else "\nheld: counted votes within the cap; no more than the favoured model's share")
        return 1 if failed else 0
    finally:
        td.run()


if __name__ == "__main__":
    sys.exit(main())
