"""Style control at arena scale: the controlled board from PostgreSQL vs FastChat's own fit.

Run: .venv/bin/python benchmarks/style_control.py [--votes 1000000] [--fastchat-rounds 100]
(needs PostgreSQL on 127.0.0.1:5432, user postgres, trust auth).

Creates a scratch database ``screentest_bench_sc_<pid>``, migrates it and loads an arena of
20 models, 50 prompts and one clip per (model, prompt) -- 1,000 clips whose seven covariates
(length, pixels, fps, motion, sharpness, loudness, sound) vary -- and 1,000,000 battles with
their votes (COPY), drawn from known strengths plus a planted effect of length (+0.30 per SD)
and of sound (+0.20 per SD), 10 % ties (half from each side). Then:

* **ours**, end to end, the production path of services/analysis.py: the ORM groups the
  counted votes by (left clip, right clip, model A, model B, winner) in PostgreSQL, the
  clips' covariates are read, and workers/ratings/style_control.fit_style_control fits the
  board with 95 % sandwich intervals. Median of 3 runs.
* **FastChat**: its own ``fit_contextual_bt`` (vendored verbatim in
  benchmarks/fastchat_style_control.py) on the same feature matrix in memory -- one row per
  vote, the same normalised differences, z-scored as ``preprocess_for_style`` does -- then
  its bootstrap as ``compute_bootstrap_style_control`` runs it: ``--fastchat-rounds``
  (default 100) refits on resampled votes (``np.random.randint`` indices), in one process.
  If the rounds would take over ``--fastchat-budget`` seconds (600), it times the first
  rounds (at least 3) and extrapolates linearly, and says so.

Printed: both times and their ratio; the largest difference in coefficients (target
<= 0.01) and in ratings (target <= 0.5 points; both anchored to mean 1000); and the 95 %
interval half-widths of both (our sandwich vs FastChat's percentile bootstrap). The scratch
database is dropped at the end, even on failure.
"""

from __future__ import annotations

import io
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

DB_NAME = f"screentest_bench_sc_{os.getpid()}"
os.environ["DJANGO_SETTINGS_MODULE"] = "webapp.settings"
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="sc-bench-"))

import numpy as np  # noqa: E402
import psycopg  # noqa: E402

from benchmarks import fastchat_style_control as fastchat  # noqa: E402
from benchmarks.copy_columns import copy_text  # noqa: E402

N_VOTES = 1_000_000
N_MODELS = 20
N_PROMPTS = 50
RUNS = 3
TIE_RATE = 0.10
PLANTED = {"duration": 0.30, "audio": 0.20}
FASTCHAT_BUDGET_S = 600.0
TARGET_OURS_S = 5.0
TARGET_COEF = 0.01
TARGET_POINTS = 0.5


def admin_connection():
    return psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True)


def copy_rows(table: str, columns: str, lines) -> None:
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buf = io.StringIO()
        for n, line in enumerate(lines, 1):
            buf.write(line)
            if n % 100_000 == 0:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())
    if not raw.autocommit:
        raw.commit()


def build_arena(rng: np.random.Generator):
    """Models, prompts, jobs and clips with varied covariates (ORM: 1,000 clips); returns the
    clip ids (N_PROMPTS, N_MODELS), their raw covariates and the prompts' ids."""
    from django.utils import timezone

    from webapp.catalog.models import VideoModel
    from webapp.studio.models import Clip, GenerationJob, JobState, Prompt

    models = VideoModel.objects.bulk_create(
        VideoModel(slug=f"bench-model-{i:02d}", display_name=f"Bench {i:02d}", vendor="bench", backend_key="demo")
        for i in range(N_MODELS)
    )
    prompts = Prompt.objects.bulk_create(
        Prompt(text=f"bench prompt {n}", seed=n, duration_s=5, aspect_ratio="16:9", pool="official", category="")
        for n in range(N_PROMPTS)
    )
    jobs = GenerationJob.objects.bulk_create(
        GenerationJob(prompt=p, model=m, state=JobState.SUCCEEDED, finished_at=timezone.now())
        for p in prompts
        for m in models
    )
    shape = (N_PROMPTS, N_MODELS)
    sizes = np.array([(512, 288), (854, 480), (1280, 720), (1920, 1080)])
    # each model has a typical length, resolution, frame rate and sound; clips vary around it
    duration = np.clip(rng.uniform(3, 8, N_MODELS) + rng.normal(0, 1.0, shape), 1.0, 12.0)
    size = sizes[(rng.integers(0, 4, N_MODELS) + (rng.random(shape) < 0.2)) % 4]
    fps = np.array([16.0, 24.0, 30.0])[(rng.integers(0, 3, N_MODELS) + (rng.random(shape) < 0.2)) % 3]
    motion = rng.gamma(2.0, 1.0, shape) * rng.uniform(0.5, 2.0, N_MODELS)
    sharpness = rng.lognormal(4.0, 0.5, shape)
    has_audio = rng.random(shape) < rng.uniform(0.0, 1.0, N_MODELS)
    loudness = rng.normal(-20.0, 4.0, shape)
    clips = Clip.objects.bulk_create(
        Clip(
            job=job,
            original="originals/bench.mp4",
            web="clips/bench.mp4",
            poster="posters/bench.jpg",
            sha256_original="0" * 64,
            sha256_web="0" * 64,
            duration_s=float(duration.flat[k]),
            width=int(size.reshape(-1, 2)[k, 0]),
            height=int(size.reshape(-1, 2)[k, 1]),
            fps=float(fps.flat[k]),
            codec="h264",
            bytes=1,
            original_bytes=1,
            has_audio=bool(has_audio.flat[k]),
            audio={"loudness_lufs": float(loudness.flat[k])} if has_audio.flat[k] else {},
            measurements={"motion_mean": float(motion.flat[k]), "sharpness": float(sharpness.flat[k])},
            measurements_version=1,
        )
        for k, job in enumerate(jobs)
    )
    clip_ids = np.array([c.pk for c in clips]).reshape(shape)
    raw = {
        "duration": duration,
        "pixels": (size[..., 0] * size[..., 1]).astype(float),
        "fps": fps,
        "motion": motion,
        "sharpness": sharpness,
        "loudness": np.where(has_audio, loudness, np.nan),
        "audio": has_audio.astype(float),
    }
    return [m.pk for m in models], [m.slug for m in models], np.array([p.pk for p in prompts]), clip_ids, raw


def simulate_and_load(rng, model_ids, prompt_ids, clip_ids, raw):
    """1 M battles with votes: strengths + planted covariate effects. Returns the true scores
    and the seconds spent loading."""
    from webapp.arena.models import Battle, Vote
    from workers.ratings.bradley_terry import ELO_SCALE
    from workers.ratings.style_control import COVARIATES, battle_differences

    started = time.perf_counter()
    true_scores = 1000.0 + rng.permutation(np.linspace(-150.0, 150.0, N_MODELS))
    prompt = rng.integers(0, N_PROMPTS, N_VOTES)
    a = rng.integers(0, N_MODELS, N_VOTES)
    b = (a + rng.integers(1, N_MODELS, N_VOTES)) % N_MODELS
    side_a = {name: values[prompt, a] for name, values in raw.items()}
    side_b = {name: values[prompt, b] for name, values in raw.items()}
    x = battle_differences(side_a, side_b)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    beta = np.array([PLANTED.get(c.name, 0.0) for c in COVARIATES])
    p = 1.0 / (1.0 + np.exp(-((true_scores[a] - true_scores[b]) / ELO_SCALE + z @ beta)))
    u = rng.random(N_VOTES)
    winner = np.where(u < p - TIE_RATE / 2, "model_a", np.where(u < p + TIE_RATE / 2, "tie", "model_b"))

    left, right = clip_ids[prompt, a], clip_ids[prompt, b]
    ids = np.asarray(model_ids)
    stamp = "2026-01-01T00:00:00+00:00"
    columns, tail = copy_text(
        Battle,
        ["id", "public_id", "prompt_id", "left_id", "right_id", "pair_key", "voter_key"],
        {"pool": "official", "created_at": stamp, "state": "voted"},
    )
    copy_rows(
        "arena_battle",
        columns,
        (
            f"{n + 1}\tbench{n}\t{pr}\t{lc}\t{rc}\tp\tbv{n}{tail}\n"
            for n, (pr, lc, rc) in enumerate(zip(prompt_ids[prompt].tolist(), left.tolist(), right.tolist()))
        ),
    )
    columns, tail = copy_text(
        Vote,
        ["battle_id", "model_a_id", "model_b_id", "winner", "voter_key"],
        {"pool": "official", "category": "", "created_at": stamp, "excluded_reason": "", "anony": True},
    )
    copy_rows(
        "arena_vote",
        columns,
        (
            f"{n + 1}\t{ma}\t{mb}\t{w}\tbv{n}{tail}\n"
            for n, (ma, mb, w) in enumerate(zip(ids[a].tolist(), ids[b].tolist(), winner.tolist()))
        ),
    )
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT setval(pg_get_serial_sequence('arena_battle', 'id'), %s)", [N_VOTES])
        cur.execute("VACUUM ANALYZE arena_battle")
        cur.execute("VACUUM ANALYZE arena_vote")
    return true_scores, time.perf_counter() - started


def ours(listed: list[str]):
    """The production path (services/analysis.py): GROUP BY in PostgreSQL -> covariates -> fit."""
    from webapp.arena.services import board, covariates
    from workers.ratings import style_control

    started = time.perf_counter()
    rows = covariates.vote_rows(board.counted_votes("official"))
    sql_s = time.perf_counter() - started
    per_clip = {cid: covariates.clip_covariates(row) for cid, row in rows.clips.items()}
    side_a, side_b = rows.side_values(per_clip, [c.name for c in style_control.COVARIATES])
    x = style_control.battle_differences(side_a, side_b)
    result = style_control.fit_style_control(
        rows.models,
        rows.a,
        rows.b,
        rows.outcome,
        x,
        rows.count,
        listed=np.array([m in listed for m in rows.models]),
    )
    return time.perf_counter() - started, sql_s, rows, x, result


def fastchat_on_the_same_matrix(rows, x, rounds: int):
    """FastChat's fit and bootstrap on one row per vote (the grouped rows repeated)."""
    reps = rows.count.astype(np.int64)
    matchups = np.stack([np.repeat(rows.a, reps), np.repeat(rows.b, reps)], axis=1)
    outcomes = np.repeat(rows.outcome, reps)
    features = fastchat.features_like_preprocess_for_style(np.repeat(x, reps, axis=0).T)
    models = list(rows.models)
    started = time.perf_counter()
    point = fastchat.fit_contextual_bt(matchups, features, outcomes, models)
    fit_s = time.perf_counter() - started
    np.random.seed(0)  # FastChat draws its bootstrap indices from numpy's global generator
    done = []
    extrapolated = False
    for k in range(rounds):
        r, c = fastchat.bootstrap_style_control(matchups, features, outcomes, models, 1)
        done.append(np.concatenate([r[0], c[0]]))
        per_round = (time.perf_counter() - started - fit_s) / (k + 1)
        if k + 1 >= 3 and fit_s + per_round * rounds > FASTCHAT_BUDGET_S and k + 1 < rounds:
            extrapolated = True
            break
    elapsed = time.perf_counter() - started
    if extrapolated:
        elapsed = fit_s + (elapsed - fit_s) / len(done) * rounds
    return elapsed, fit_s, extrapolated, len(done), point, np.array(done)


def anchored(log10_ratings):
    s = 400.0 * np.asarray(log10_ratings)
    return s - s.mean(axis=-1, keepdims=True) + 1000.0


def compare_with_fastchat(rows, x, result, ours_scores, ours_s):
    """Time FastChat on the same matrix; print the differences and both intervals."""
    m = len(rows.models)
    fc_s, fc_fit_s, extrapolated, fc_rounds, fc_point, fc_boot = fastchat_on_the_same_matrix(rows, x, ROUNDS_FC)
    how = f"extrapolated from {fc_rounds} rounds" if extrapolated else f"{fc_rounds} rounds run"
    print(
        f"FastChat fit_contextual_bt + bootstrap ({ROUNDS_FC} rounds, one process, {how}) on the same "
        f"{int(rows.count.sum()):,}-row feature matrix in memory: {fc_s:.1f} s (point fit {fc_fit_s:.1f} s)"
    )
    print(f"ratio FastChat / ours: {fc_s / ours_s:.0f}x")

    fc_scores = anchored(fc_point[:m])
    diffs = [abs(ours_scores[s].score - fc_scores[k]) for k, s in enumerate(rows.models)]
    coef_diffs = [abs(c.coef - fc_point[m + k]) for k, c in enumerate(result.coefficients)]
    print(
        f"largest difference in ratings: {max(diffs):.3f} points (target <= {TARGET_POINTS}); "
        f"in coefficients: {max(coef_diffs):.4f} (target <= {TARGET_COEF})"
    )
    fc_lo, fc_hi = np.percentile(anchored(fc_boot[:, :m]), [2.5, 97.5], axis=0)
    c_lo, c_hi = np.percentile(fc_boot[:, m:], [2.5, 97.5], axis=0)
    print("covariate   planted  ours [95% sandwich]           FastChat [95% bootstrap]")
    for k, c in enumerate(result.coefficients):
        print(
            f"{c.name:<11} {PLANTED.get(c.name, 0.0):>6.2f}  {c.coef:+.4f} [{c.lower:+.4f}, {c.upper:+.4f}]   "
            f"{fc_point[m + k]:+.4f} [{c_lo[k]:+.4f}, {c_hi[k]:+.4f}]"
        )
    ours_half = np.array([(ours_scores[s].upper - ours_scores[s].lower) / 2 for s in rows.models])
    fc_half = (fc_hi - fc_lo) / 2
    fc_sd_half = 1.96 * anchored(fc_boot[:, :m]).std(axis=0, ddof=1) if len(fc_boot) > 1 else fc_half
    print(
        f"rating interval half-widths: ours {ours_half.mean():.2f} points on average "
        f"(range {ours_half.min():.2f}-{ours_half.max():.2f}), FastChat bootstrap percentiles {fc_half.mean():.2f} "
        f"({fc_half.min():.2f}-{fc_half.max():.2f}), 1.96 x its bootstrap SD {fc_sd_half.mean():.2f} "
        f"({len(fc_boot)} rounds)"
    )
    return diffs, coef_diffs


def run() -> int:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rng = np.random.default_rng(20261130)
    model_ids, slugs, prompt_ids, clip_ids, raw = build_arena(rng)
    true_scores, load_s = simulate_and_load(rng, model_ids, prompt_ids, clip_ids, raw)
    print(f"loaded {N_VOTES:,} battles + votes, {N_MODELS} models, {clip_ids.size} clips with COPY in {load_s:.1f} s")

    runs = [ours(slugs) for _ in range(RUNS)]
    times = sorted(r[0] for r in runs)
    ours_s = statistics.median(times)
    _, sql_s, rows, x, result = runs[-1]
    print(
        f"ours (PostgreSQL GROUP BY -> {len(rows):,} (clip pair, outcome) rows -> fit + sandwich intervals): "
        f"{ours_s:.2f} s (target <= {TARGET_OURS_S} s; median of {RUNS}: {', '.join(f'{t:.2f}' for t in times)}; "
        f"of which SQL {statistics.median(r[1] for r in runs):.2f} s)"
    )

    m = len(rows.models)
    ours_scores = {r.model: r for r in result.ratings}
    if ROUNDS_FC == 0:
        print("FastChat baseline skipped (--fastchat-rounds 0)")
        diffs, coef_diffs = [0.0], [0.0]
    else:
        diffs, coef_diffs = compare_with_fastchat(rows, x, result, ours_scores, ours_s)
    truth = true_scores - true_scores.mean() + 1000.0
    index = {s: k for k, s in enumerate(slugs)}
    covered = sum(ours_scores[s].lower <= truth[index[s]] <= ours_scores[s].upper for s in rows.models)
    print(f"true scores inside our 95% intervals: {covered} of {m}")
    ok = ours_s <= TARGET_OURS_S and max(diffs) <= TARGET_POINTS and max(coef_diffs) <= TARGET_COEF
    print("RESULT:", "targets met" if ok else "a target was MISSED")
    return 0 if ok else 1


ROUNDS_FC = 100


def main() -> int:
    import argparse

    global N_VOTES, ROUNDS_FC, FASTCHAT_BUDGET_S
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=N_VOTES)
    parser.add_argument("--fastchat-rounds", type=int, default=ROUNDS_FC)
    parser.add_argument("--fastchat-budget", type=float, default=FASTCHAT_BUDGET_S, help="seconds before extrapolating")
    args = parser.parse_args()
    N_VOTES, ROUNDS_FC, FASTCHAT_BUDGET_S = args.votes, args.fastchat_rounds, args.fastchat_budget
    started = time.perf_counter()
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    try:
        return run()
    finally:
        from django.db import connections

        connections.close_all()
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        print(f"scratch database {DB_NAME} dropped; total benchmark time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
