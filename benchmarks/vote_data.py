"""The data vote_load.py votes on: the catalog, prompts with a clip per model, one real session per
client and enough signed battles that each is voted exactly once by design.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from datetime import timedelta

# --------------------------------------------------------------------------------------------
# Data


def create_data(n_clients: int, per_client: int, seed: int):
    """Catalog, prompts/jobs/clips, one session + voter per client and per_client battles each.
    Returns (session keys, [[(battle pk, body bytes), ...] per client], voter keys)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from django.utils import timezone

    from webapp.arena.models import Battle, BattleState
    from webapp.arena.services import battles as battles_mod
    from webapp.arena.services.voters import VERIFIED, current_voter
    from webapp.catalog.models import VideoModel
    from webapp.catalog.services import load_catalog
    from webapp.studio.models import Clip, GenerationJob, JobState, Prompt

    rng = random.Random(seed)
    load_catalog()
    models = list(VideoModel.objects.order_by("slug"))
    if len(models) < 2:
        raise RuntimeError("the catalog has fewer than 2 models: no battles possible")
    pairs = list(itertools.combinations(range(len(models)), 2))
    n_prompts = math.ceil(per_client / len(pairs))
    now = timezone.now()
    prompts = Prompt.objects.bulk_create(
        [
            Prompt(
                text=f"votebench prompt {n}",
                seed=n,
                duration_s=2,
                aspect_ratio="16:9",
                source=Prompt.Source.SUITE,
                pool=Prompt.Pool.OFFICIAL,
                category="animals",
            )
            for n in range(n_prompts)
        ],
        batch_size=2000,
    )
    jobs = GenerationJob.objects.bulk_create(
        [
            GenerationJob(prompt=p, model=m, state=JobState.SUCCEEDED, attempts=1, finished_at=now)
            for p in prompts
            for m in models
        ],
        batch_size=2000,
    )
    clips = Clip.objects.bulk_create(
        [
            Clip(
                job=j,
                original=f"originals/votebench-{j.pk}.mp4",
                web=f"clips/votebench-{j.pk}.mp4",
                poster=f"posters/votebench-{j.pk}.jpg",
                sha256_original="0" * 64,
                sha256_web="0" * 64,
                duration_s=2.0,
                width=160,
                height=90,
                fps=24,
                codec="h264",
                bytes=1,
                original_bytes=1,
            )
            for j in jobs
        ],
        batch_size=2000,
    )
    grid = [clips[i * len(models) : (i + 1) * len(models)] for i in range(n_prompts)]
    slots = [(p, a, b) for p in range(n_prompts) for a, b in pairs][:per_client]

    store_cls = import_module(settings.SESSION_ENGINE).SessionStore
    watched_from = now - timedelta(hours=1)
    factory = RequestFactory()
    sessions, voter_keys, rows = [], [], []
    for c in range(n_clients):
        store = store_cls()
        store[VERIFIED] = True  # the session of a browser that passed the entry check
        store.create()
        request = factory.post("/api/v1/votes", REMOTE_ADDR="127.0.0.1")
        request.session = store_cls(store.session_key)  # as SessionMiddleware would from the cookie
        request.user = AnonymousUser()
        voter = current_voter(request)  # the product's own derivation of the voter key
        assert voter is not None
        sessions.append(store.session_key)
        voter_keys.append(voter.key)
        offset = c * 7 % len(slots)  # clients start at different prompts
        for p, a, b in slots[offset:] + slots[:offset]:
            left, right = grid[p][a], grid[p][b]
            if rng.random() < 0.5:
                left, right = right, left
            rows.append(
                Battle(
                    prompt=prompts[p],
                    left=left,
                    right=right,
                    pool=Prompt.Pool.OFFICIAL,
                    pair_key=battles_mod.pair_key(left.pk, right.pk),
                    voter_key=voter.key,
                    # rendered, served and watched through: what the vote path checks
                    state=BattleState.READY,
                    duration_s=2.0,
                    served_at=watched_from,
                    left_fetched_at=watched_from,
                    right_fetched_at=watched_from,
                )
            )
    made = Battle.objects.bulk_create(rows, batch_size=2000)
    choices = ["left", "right", "tie", "bothbad"]
    per_client_battles = []
    for c in range(n_clients):
        mine = made[c * per_client : (c + 1) * per_client]
        per_client_battles.append(
            [
                (
                    b.pk,
                    json.dumps(
                        {
                            "token": battles_mod.sign(b),
                            "choice": rng.choice(choices),
                            "watched_left_s": 2.0,
                            "watched_right_s": 2.0,
                        }
                    ).encode(),
                )
                for b in mine
            ]
        )
    return sessions, per_client_battles, voter_keys, len(models), n_prompts
