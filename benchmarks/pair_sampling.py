"""Active pair sampling (workers/ratings/sampling.py) vs uniform random pairing, simulated.

Run: .venv/bin/python benchmarks/pair_sampling.py [--scenario all|static|entrant|arrivals]
                                                 [--reps N] [--rounds R] [--quick]
     (other knobs: --models, --spread LO HI, --budget, --target-votes, --sampler JSON,
      --arrivals-reps, --arrivals-initial, --arrivals-every, --arrivals-budget, ...)

Question: how many votes does the active rule need to reach the mean 95 % interval width
that uniform random pairing reaches with --target-votes (default 4,000) votes, and does it
keep ranking accuracy at equal budgets?

Simulation (the assumptions; nothing here is tuned to favour either strategy - the rule's
defaults were chosen before the reported seeds 0..47 were run, on seeds 1000+):

* 10 models. True Bradley-Terry strengths on the Elo-like scale (P(i beats j) =
  1 / (1 + 10^((s_j - s_i)/400))) are drawn afresh for every repetition: 10 standard-normal
  draws, rescaled so that best - worst = a spread drawn uniformly in [400, 600] points,
  centred on 1000. Normal draws give a denser middle with close clusters and sparser ends
  (public boards have neighbours a few points apart, e.g. LMArena text-to-video
  sora-2-pro 1366 vs grok-imagine-video 1359). The spreads drawn are printed.
* Every vote: with probability 10 % a tie (half "tie", half "tie (bothbad)", which the BT
  fit scores 1/2), otherwise a win drawn from the BT probability at the true strengths.
  Tie rate independent of the pair (a simplification; real ties are likelier between close
  models; a constant tie rate also makes lopsided pairs look less lopsided to the fit).
  Voters are i.i.d. and honest; every pair is always available (no exclusions, every model
  has clips for every prompt).
* All strategies start from the same warm-up: --warmup (250) uniformly random votes.
  Then each draws its own pairs: "uniform" = every unordered pair equally likely;
  "active" = sampling.choose_pair with its defaults (no new models in this scenario);
  "oracle" = pairs drawn from the best *static* allocation for the asymptotic mean width,
  computed from the true strengths (not implementable; it shows the room there is).
  Ratings are refitted every --refit-every (250) votes; the active sampler sees the model
  states (score, 95 % interval) of the latest refit and the live per-pair vote counts.
  All run to --budget (5,000) votes; widths / accuracy are measured at every refit.
* Ratings: workers/ratings/ (leaderboard(from_rows(rows), rounds=R, seed=...);
  bootstrap_bt with the same seed for the neighbour-gap intervals), the production code,
  when it imports and agrees with a small self-contained vectorised BT (Newton) +
  multinomial bootstrap defined below on a sanity board; otherwise that fallback. The line
  "ratings engine:" says which one ran. Bootstrap rounds per refit: --rounds (default 100,
  FastChat's own default, fewer than a production board might use, for speed) - enough for
  the mean width averaged over models and repetitions, noisy for a single interval.
* Metrics, averaged over --reps (48) independent repetitions (seeds seed-base ..
  seed-base + reps - 1): mean width = mean over models of (upper - lower) of the bootstrap
  95 % interval; Spearman = rank correlation of fitted scores with the true strengths
  (paired difference +- standard error); neighbour-gap width = mean over the 9 truly
  adjacent pairs of the width of the bootstrap 95 % interval of (s_i - s_j), what decides
  whether the board can order neighbours; resolved = share of those gap intervals that
  exclude 0.
* Votes to reach W: W = uniform's average mean width at --target-votes; for each strategy,
  the first refit point where the averaged curve is <= W, interpolated log-linearly
  between refit points (width ~ votes^-1/2). Spread: per repetition (own W, own crossing),
  and a 95 % interval for the saving from resampling repetitions.
* Asymptotic bound: the oracle allocation's vote saving in BT Fisher information (ties
  ignored), averaged over repetitions.
* A second, separate scenario ("late entrant", --entrant-reps = 12 repetitions): 9 models
  rated on --history (3,000) uniform votes, then a 10th joins unrated; uniform vs active
  without the boost vs active with is_new=True while it has < 300 votes (boost x5);
  refit every --entrant-refit (100) votes. Reported: votes after arrival until the
  entrant's 95 % interval is no wider than the established models' mean width at arrival.
* A third scenario ("staggered arrivals", --scenario arrivals, --arrivals-reps = 24
  repetitions, fewer than the static scenario's 48 to keep the whole run short; seeds
  seed-base .. seed-base + 23 with their own random streams): the issue's metric where it
  can actually differ from a static board. Real arenas grow: LMArena's text-to-video board
  went from 39 to 45 models in 3.5 months, and a model shows up there with ~1.3k votes.
  Setup, fixed before any run: 10 models with strengths drawn as in the static scenario,
  4 present at vote 0, the other 6 joining one at a time every 400 votes (400, 800, ..,
  2,400) in a random order independent of strength, the same schedule for all strategies;
  budget B = 4,000 votes (last arrival at 60 % of B). No warm-up (until the first refit
  every model is unrated and new, so choose_pair weighs pairs only by the damping on their
  live counts - what production does on an empty board). Strategies: "uniform" = a random
  pair of the models present; "active" = sampling.choose_pair with its defaults on the
  models present, with is_new exactly as webapp/arena/services/battles.py derives it from
  the latest snapshot: a model missing from it (fewer than LEADERBOARD_MIN_VOTES = 10
  votes at the last refit, or arrived since; it is then also unrated) or preliminary there
  (fewer than LEADERBOARD_PRELIMINARY_BELOW = 100 votes, or outside the main connected
  component) gets the x5 boost - the two defaults are read from webapp/settings.py's source
  (no Django setup, environment overrides ignored) and printed; "active, no boost" = the
  same without is_new, to show what the boost adds. Refit every --refit-every (250) votes;
  live pair counts as in the other scenarios (battles.py actually passes the counts of the
  latest snapshot; --arrivals-snapshot-counts simulates that).
  Metric: mean over all 10 models of the bootstrap 95 % width, defined from the first refit
  at which every model is present (2,500 votes; before that the table shows the mean over the
  models present, marked *). W = uniform's average width at B; active's votes = first
  crossing of W by its averaged curve from 2,500 votes on (log-linear interpolation as
  above); saving = 1 - votes / B, with per-repetition spread and a 95 % interval from
  resampling repetitions. By construction no strategy can save more than 40 % here (the last
  model exists only from vote 2,400) and the largest measurable saving is 37.5 %. Also:
  Spearman at equal budget (2,500 and B), mean width and votes per model at B by arrival
  group, and a bound: the fewest votes with which the best allocation under the same
  schedule (any shares of each time segment's votes over the pairs present then, true
  strengths known, ties ignored) reaches uniform's asymptotic mean standard error at B.
  Exploratory runs were on seeds 1000..1007 only and changed no scenario parameter (only the
  bound optimiser's iterations, 400 -> 200, same result to within 5 votes). They showed
  that the gain depends on how fast the board grows: with 8 models at the start and 2 joining
  (at 1,200 and 2,400 votes; closer to LMArena's ~15 % growth) active saved ~10 % and the
  bound was ~15 %; the pair counts of the latest snapshot instead of live ones gave the same
  saving within noise (~16 % vs ~15 %).
  Measured with the defaults (seeds 0..23): 14.8 % fewer votes (95 % interval 12.5 .. 16.6 %),
  15.4 % without the boost, bound 20.7 %, Spearman at B 0.986 vs uniform 0.981 - below the
  30 % target, which no allocation reaches under this schedule (docs/figures.md).

Why the static scenario cannot reach 30 %: for a fixed field, uniform pairing is already
close to the optimal design for the mean width of BT scores - the best static allocation
saves about 5-12 % for realistic fields (10-39 models ~500 points apart) and 30 % only with
~1,200-point spreads (oracle_allocation below on such fields reproduces this), in line with the Chatbot Arena paper (arXiv 2403.04132, active
sampling: large gains for the win-rate matrix, ~5 % for BT scores). Active sampling pays
where the board is unbalanced - a late entrant, and a growing board.

Whole run with the defaults: about 5 minutes on 2 cores (single process).

Over ~400 lines on purpose: a quarter of it is this write-up; the simulation and the arrivals
scenario live in pair_sampling_sim.py and pair_sampling_arrivals.py.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.pair_sampling_arrivals import report_arrivals  # noqa: E402
from benchmarks.pair_sampling_sim import (  # noqa: E402
    TIE_RATE,
    Arena,
    measure,
    oracle_allocation,
    pick_engine,
    true_strengths,
    votes_to_reach,
)
from workers.ratings.sampling import ModelState, choose_pair  # noqa: E402

ARRIVALS_REPS = 24  # staggered-arrivals scenario, fewer than the static one's 48 to keep the run short


# ------------------------------------------------------------------------- scenarios


def run_strategy(
    strategy, engine, arena, rng, budget, refit_every, rounds, fit_seed, order, states, oracle_p=None, **kw
):
    """Continue `arena` to `budget` votes; return {votes: metrics} at each refit."""
    curve = {}
    keys = arena.keys
    n_keys = len(keys)
    combos = list(itertools.combinations(range(n_keys), 2))
    while arena.votes < budget:
        stop = min(budget, (arena.votes // refit_every + 1) * refit_every)
        while arena.votes < stop:
            if strategy == "uniform":
                i, j = rng.choice(n_keys, 2, replace=False)
                a, b = keys[i], keys[j]
            elif strategy == "oracle":
                i, j = combos[rng.choice(len(combos), p=oracle_p)]
                a, b = keys[i], keys[j]
            else:
                a, b = choose_pair(states, arena.pair_counts, rng, **kw)
            arena.vote(rng, a, b)
        states, curve[arena.votes] = measure(engine, arena, rounds, fit_seed + arena.votes, order)
    return curve


def main_scenario(args, engine):
    strategies = ("uniform", "active") + (() if args.no_oracle else ("oracle",))
    curves = {s: [] for s in strategies}
    spreads, oracle_bound = [], []
    for rep in range(args.reps):
        seed = args.seed_base + rep
        rng = np.random.default_rng([seed, 0])
        strengths, spread = true_strengths(rng, args.models, args.spread)
        spreads.append(spread)
        keys = [f"m{i}" for i in range(len(strengths))]
        perm = rng.permutation(len(keys))  # list order carries no information
        keys = [keys[i] for i in perm]
        strengths = strengths[perm]
        order = sorted(keys, key=lambda k: -strengths[keys.index(k)])
        base = Arena(keys, strengths)
        for _ in range(args.warmup):
            i, j = rng.choice(len(keys), 2, replace=False)
            base.vote(rng, keys[i], keys[j])
        states, first = measure(engine, base, args.rounds, seed * 100_000, order)
        oracle_p = None
        if "oracle" in strategies:
            oracle_p, bound = oracle_allocation(strengths)
            oracle_bound.append(bound)
        for k, strategy in enumerate(strategies):
            arena = base.clone()
            srng = np.random.default_rng([seed, 1 + k])
            curve = {arena.votes: first}
            curve.update(
                run_strategy(
                    strategy,
                    engine,
                    arena,
                    srng,
                    args.budget,
                    args.refit_every,
                    args.rounds,
                    seed * 100_000 + 30_000 * k,
                    order,
                    states,
                    oracle_p=oracle_p,
                    **args.sampler_kw,
                )
            )
            curves[strategy].append(curve)
    return curves, spreads, oracle_bound


def late_entrant_scenario(args, engine):
    """9 established models + 1 unrated newcomer; votes until its interval is as narrow as theirs."""
    variants = (("uniform", {}), ("active, no boost", {}), ("active, is_new boost x5", {"new": True}))
    needed = {name: [] for name, _ in variants}
    shares = {name: [] for name, _ in variants}
    for rep in range(min(args.reps, args.entrant_reps)):
        seed = args.seed_base + 10_000 + rep
        rng = np.random.default_rng([seed, 0])
        strengths, _ = true_strengths(rng, args.models, args.spread)
        keys = [f"m{i}" for i in range(len(strengths))]
        new_key = keys[int(rng.integers(len(keys)))]
        old = [k for k in keys if k != new_key]
        s_of = dict(zip(keys, strengths))
        base = Arena(keys, strengths)
        for _ in range(args.history):
            i, j = rng.choice(len(old), 2, replace=False)
            base.vote(rng, old[i], old[j])
        order_old = sorted(old, key=lambda k: -s_of[k])
        board, _, _ = engine.fit(base.rows(), args.rounds, seed)
        target = float(np.mean([board[k][2] - board[k][1] for k in order_old]))
        for v, (name, opts) in enumerate(variants):
            arena = base.clone()
            vrng = np.random.default_rng([seed, 1 + v])
            states = [ModelState(k, *board[k], battles=arena.battles[k]) for k in old]
            states.append(ModelState(new_key, battles=0, is_new=bool(opts.get("new"))))
            reached = None
            start = arena.votes
            step = args.entrant_refit
            while arena.votes - start < args.entrant_budget:
                for _ in range(step):
                    if name == "uniform":
                        i, j = vrng.choice(len(keys), 2, replace=False)
                        a, b = keys[i], keys[j]
                    else:
                        a, b = choose_pair(states, arena.pair_counts, vrng)
                    arena.vote(vrng, a, b)
                fitted, _, _ = engine.fit(arena.rows(), args.rounds, seed + arena.votes)
                states = [
                    ModelState(
                        k,
                        *fitted[k],
                        battles=arena.battles[k],
                        is_new=bool(opts.get("new")) and k == new_key and arena.battles[k] < 300,
                    )
                    if k in fitted
                    else ModelState(k, battles=arena.battles[k], is_new=bool(opts.get("new")) and k == new_key)
                    for k in keys
                ]
                if new_key in fitted and fitted[new_key][2] - fitted[new_key][1] <= target:
                    reached = arena.votes - start
                    break
            needed[name].append(reached)
            shares[name].append(arena.battles[new_key] / max(1, arena.votes - start))
    return needed, shares


# ------------------------------------------------------------------------- report


def report_static(args, engine, t0):
    print(
        f"setup: {args.models} models, true spread U[{args.spread[0]:.0f}, {args.spread[1]:.0f}] points, "
        f"{TIE_RATE:.0%} ties, {args.reps} repetitions (seeds {args.seed_base}..{args.seed_base + args.reps - 1}), "
        f"warm-up {args.warmup} uniform votes, refit every {args.refit_every} votes with {args.rounds} "
        f"bootstrap rounds (fewer than production, for speed), budget {args.budget} votes; "
        f"active = choose_pair({', '.join(f'{k}={v}' for k, v in args.sampler_kw.items()) or 'defaults'})"
    )

    curves, spreads, oracle_bound = main_scenario(args, engine)
    strategies = list(curves)
    print(f"true spreads drawn: min {min(spreads):.0f}, median {np.median(spreads):.0f}, max {max(spreads):.0f} points")
    votes = sorted(curves["uniform"][0])

    def avg(strategy, metric):
        return np.array([np.mean([c[v][metric] for c in curves[strategy]]) for v in votes])

    width = {s: avg(s, "width") for s in strategies}
    rho = {s: avg(s, "spearman") for s in strategies}
    has_gap = "gap" in curves["uniform"][0][votes[0]]
    gap = {s: avg(s, "gap") for s in strategies} if has_gap else None
    resolved = {s: avg(s, "resolved") for s in strategies} if has_gap else None

    print()
    print("mean 95% interval width (points, mean over models and repetitions) and Spearman rho vs truth")
    head = (
        "  votes | width "
        + " ".join(f"{s:>8s}" for s in strategies)
        + " | active/uniform | rho "
        + " ".join(f"{s:>8s}" for s in strategies)
    )
    print(head)
    shown = [v for v in votes if v in (250, 500, 1000, 1500, 2000, 3000, 4000, 5000) or v == votes[-1]]
    for v in shown:
        k = votes.index(v)
        print(
            f"  {v:5d} |       "
            + " ".join(f"{width[s][k]:8.1f}" for s in strategies)
            + f" |          {width['active'][k] / width['uniform'][k]:5.3f} |     "
            + " ".join(f"{rho[s][k]:8.3f}" for s in strategies)
        )
    if has_gap:
        print("neighbour-gap 95% width (truly adjacent pairs) and share of them resolved (interval excludes 0)")
        print(
            "  votes | gap   "
            + " ".join(f"{s:>8s}" for s in strategies)
            + " | resolved "
            + " ".join(f"{s:>8s}" for s in strategies)
        )
        for v in shown:
            k = votes.index(v)
            print(
                f"  {v:5d} |       "
                + " ".join(f"{gap[s][k]:8.1f}" for s in strategies)
                + " |          "
                + " ".join(f"{resolved[s][k]:8.2f}" for s in strategies)
            )

    kt = votes.index(args.target_votes)
    target = width["uniform"][kt]
    n_uniform = votes_to_reach(votes, width["uniform"], target)
    print()
    print(f"target W = uniform's mean 95% width at {args.target_votes} votes = {target:.1f} points")
    print(f"BASELINE uniform: {n_uniform:.0f} votes to reach W")
    for s in strategies[1:]:
        n = votes_to_reach(votes, width[s], target)
        label = "ACTIVE" if s == "active" else "ORACLE (static optimum, knows true strengths; not implementable)"
        if n is None:
            print(f"{label}: does not reach W within {args.budget} votes (width there {width[s][-1]:.1f}) -> no saving")
        else:
            print(
                f"{label}: {n:.0f} votes to reach W; ratio {s}/uniform = {n / n_uniform:.3f}; "
                f"saving {100 * (1 - n / n_uniform):.1f}%" + ("  (target >= 30%)" if s == "active" else "")
            )
    per_rep = []
    for cu, ca in zip(curves["uniform"], curves["active"]):
        wu = [cu[v]["width"] for v in votes]
        na = votes_to_reach(votes, [ca[v]["width"] for v in votes], wu[kt])
        per_rep.append(100 * (1 - na / votes_to_reach(votes, wu, wu[kt])) if na else float("nan"))
    per_rep = np.array(per_rep)
    ok = per_rep[np.isfinite(per_rep)]
    print(
        f"active saving per repetition (own W): median {np.median(ok):.1f}%, quartiles "
        f"{np.percentile(ok, 25):.1f}% .. {np.percentile(ok, 75):.1f}%, range {ok.min():.1f}% .. {ok.max():.1f}%"
        + (f", {np.sum(~np.isfinite(per_rep))} never reached W" if np.any(~np.isfinite(per_rep)) else "")
    )
    # uncertainty of the headline saving: resample repetitions (paired), recompute curves
    boot_rng = np.random.default_rng(12345)
    wu_all = np.array([[c[v]["width"] for v in votes] for c in curves["uniform"]])
    wa_all = np.array([[c[v]["width"] for v in votes] for c in curves["active"]])
    savings = []
    for _ in range(1000):
        idx = boot_rng.integers(0, len(wu_all), len(wu_all))
        cu, ca = wu_all[idx].mean(axis=0), wa_all[idx].mean(axis=0)
        na = votes_to_reach(votes, ca, cu[kt])
        savings.append(100 * (1 - (na if na else np.inf) / votes_to_reach(votes, cu, cu[kt])))
    lo, hi = np.percentile(savings, [2.5, 97.5])
    print(f"active saving, 95% interval from resampling the repetitions: {lo:.1f}% .. {hi:.1f}%")
    if oracle_bound:
        print(
            f"asymptotic bound (Fisher information, best static allocation vs uniform): saving "
            f"{100 * np.mean(oracle_bound):.1f}% on average, range {100 * min(oracle_bound):.1f}% .. "
            f"{100 * max(oracle_bound):.1f}%"
        )
    for v in (1000, 2000, args.target_votes):
        if v in votes:
            k = votes.index(v)
            diff = np.array(
                [ca[v]["spearman"] - cu[v]["spearman"] for cu, ca in zip(curves["uniform"], curves["active"])]
            )
            se = diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
            print(
                f"equal budget {v} votes: Spearman uniform {rho['uniform'][k]:.3f}, active {rho['active'][k]:.3f} "
                f"(difference {diff.mean():+.3f} +- {se:.3f} s.e.)"
                + (
                    f"; neighbour-gap width uniform {gap['uniform'][k]:.1f}, active {gap['active'][k]:.1f} "
                    f"(ratio {gap['active'][k] / gap['uniform'][k]:.3f})"
                    if has_gap
                    else ""
                )
            )
    if has_gap:
        g_target = gap["uniform"][kt]
        gu = votes_to_reach(votes, gap["uniform"], g_target)
        ga = votes_to_reach(votes, gap["active"], g_target)
        print(
            f"neighbour-gap width {g_target:.1f} (uniform at {args.target_votes} votes): active needs "
            + (f"{ga:.0f} votes, saving {100 * (1 - ga / gu):.1f}%" if ga else f"more than {args.budget} votes")
        )
    print(f"[main scenario {time.perf_counter() - t0:.0f} s]")


def report_entrant(args, engine):
    t1 = time.perf_counter()
    needed, shares = late_entrant_scenario(args, engine)
    print()
    print(
        f"LATE ENTRANT ({min(args.reps, args.entrant_reps)} repetitions): {args.models - 1} models rated on "
        f"{args.history} uniform votes, then one more joins "
        f"unrated; votes after arrival until its 95% width <= the others' mean width at arrival "
        f"(refit every {args.entrant_refit} votes; is_new while it has < 300 votes)"
    )
    base = None
    for name, vals in needed.items():
        arr = np.array([np.inf if x is None else x for x in vals], float)
        med = float(np.median(arr))
        miss = int(np.sum(~np.isfinite(arr)))
        if base is None:
            base = med
        text = f"median {med:6.0f} votes" if np.isfinite(med) else f"median > {args.entrant_budget} votes"
        ratio = med / base if np.isfinite(med) and np.isfinite(base) else float("nan")
        print(
            f"  {name:24s}: {text}"
            + (f" ({miss} of {len(arr)} runs not within {args.entrant_budget})" if miss else "")
            + f"; entrant's share of those votes {100 * np.mean(shares[name]):.0f}%"
            + (
                f"; ratio vs uniform {ratio:.3f}, saving {100 * (1 - ratio):.0f}%"
                if name != "uniform"
                else " (baseline)"
            )
        )
    print(f"[late-entrant scenario {time.perf_counter() - t1:.0f} s]")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=48, help="independent repetitions (seeds)")
    ap.add_argument("--rounds", type=int, default=100, help="bootstrap rounds per refit")
    ap.add_argument("--models", type=int, default=10)
    ap.add_argument(
        "--spread",
        type=float,
        nargs=2,
        default=(400.0, 600.0),
        metavar=("LO", "HI"),
        help="best-worst true strength spread, drawn uniformly in [LO, HI] points",
    )
    ap.add_argument("--warmup", type=int, default=250)
    ap.add_argument("--refit-every", type=int, default=250)
    ap.add_argument("--target-votes", type=int, default=4000)
    ap.add_argument("--budget", type=int, default=5000)
    ap.add_argument("--history", type=int, default=3000, help="late-entrant scenario: votes before it arrives")
    ap.add_argument("--entrant-budget", type=int, default=5000)
    ap.add_argument("--entrant-refit", type=int, default=100)
    ap.add_argument("--entrant-reps", type=int, default=12)
    ap.add_argument("--seed-base", type=int, default=0)
    ap.add_argument("--ratings", choices=("auto", "webapp", "internal"), default="auto")
    ap.add_argument("--sampler", default="{}", help='JSON keyword arguments for choose_pair, e.g. {"exploration": 0.2}')
    ap.add_argument("--no-oracle", action="store_true", help="skip the oracle strategy")
    ap.add_argument("--no-entrant", action="store_true", help="skip the late-entrant scenario")
    ap.add_argument("--arrivals-reps", type=int, default=ARRIVALS_REPS, help="staggered-arrivals scenario: repetitions")
    ap.add_argument("--arrivals-initial", type=int, default=4, help="arrivals: models present at vote 0")
    ap.add_argument("--arrivals-every", type=int, default=400, help="arrivals: votes between two arrivals")
    ap.add_argument("--arrivals-budget", type=int, default=4000, help="arrivals: votes per strategy (B)")
    ap.add_argument(
        "--arrivals-snapshot-counts",
        action="store_true",
        help="arrivals: give choose_pair the pair counts of the latest refit (what battles.py passes) "
        "instead of live counts",
    )
    ap.add_argument(
        "--scenario",
        choices=("all", "static", "entrant", "arrivals"),
        default="all",
        help="run one scenario only (default: all three)",
    )
    ap.add_argument("--quick", action="store_true", help="4 repetitions, for a smoke test")
    args = ap.parse_args()
    if args.quick:
        args.reps = 4
        args.arrivals_reps = 4
    if not (
        2 <= args.arrivals_initial <= args.models
        and args.arrivals_budget % args.refit_every == 0
        and args.arrivals_every * (args.models - args.arrivals_initial) < args.arrivals_budget - args.refit_every
    ):
        ap.error(
            "arrivals: need 2 <= initial <= models, budget a multiple of refit-every, last arrival before "
            "the last refit interval"
        )
    args.sampler_kw = json.loads(args.sampler)
    if args.budget < args.target_votes or args.target_votes % args.refit_every or args.warmup % args.refit_every:
        ap.error("need budget >= target-votes, and target-votes and warmup multiples of refit-every")

    t0 = time.perf_counter()
    engine, how = pick_engine(args.ratings)
    print(f"ratings engine: {engine.name} - {how}")
    if args.scenario in ("static", "all"):
        report_static(args, engine, t0)
    if args.scenario in ("entrant", "all") and not args.no_entrant:
        report_entrant(args, engine)
    if args.scenario in ("arrivals", "all"):
        report_arrivals(args, engine)
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
