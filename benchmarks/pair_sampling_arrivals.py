"""pair_sampling.py's staggered-arrivals scenario: models join a growing board on a schedule,
with the production thresholds for new and preliminary models, against its own oracle bound.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from pathlib import Path

import numpy as np

from benchmarks.pair_sampling_sim import Arena, spearman, true_strengths, votes_to_reach
from workers.ratings.sampling import ModelState, choose_pair

REPO_ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------- staggered arrivals


def production_new_thresholds():
    """(LEADERBOARD_MIN_VOTES, LEADERBOARD_PRELIMINARY_BELOW, where from): the defaults in
    webapp/settings.py, read from its source (no Django setup; environment overrides ignored).
    battles.py marks a model is_new when it is missing from the latest snapshot (listed only
    from MIN_VOTES votes) or preliminary there (fewer than PRELIMINARY_BELOW votes, or not
    connected to the main comparison graph)."""
    text = (REPO_ROOT / "webapp" / "settings.py").read_text()
    found = []
    for name, fallback in (("LEADERBOARD_MIN_VOTES", 10), ("LEADERBOARD_PRELIMINARY_BELOW", 100)):
        m = re.search(rf'^{name}\s*=\s*env_number\(\s*"{name}"\s*,\s*([0-9_]+)', text, re.M)
        found.append((int(m.group(1)) if m else fallback, bool(m)))
    how = (
        "defaults read from webapp/settings.py"
        if all(ok for _, ok in found)
        else "NOT found in webapp/settings.py; using the fallbacks 10 / 100"
    )
    return found[0][0], found[1][0], how


def _connected(keys, pair_counts):
    """Keys in the connected component (of the comparison graph) with the most votes."""
    parent = {k: k for k in keys}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pk, n in pair_counts.items():
        if n > 0:
            a, b = tuple(pk)
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
    votes = {}
    for pk, n in pair_counts.items():
        for k in pk:
            votes[find(k)] = votes.get(find(k), 0) + n
    if not votes:
        return set()
    root = max(votes, key=votes.get)
    return {k for k in keys if find(k) == root}


def production_states(present, snapshot, snap_votes, snap_connected, boost, min_votes, prelim_below):
    """The ModelStates battles.py would build from `snapshot` (key -> (score, lower, upper), the
    latest refit) for the models `present` now: a model with fewer than `min_votes` votes at the
    refit, or arrived since, is not on the board -> unrated and new; a listed one is new while
    preliminary (votes < prelim_below or not connected). boost=False: is_new never set."""
    states = []
    for k in present:
        v = snap_votes.get(k, 0)
        if k in snapshot and v >= min_votes:
            new = v < prelim_below or k not in snap_connected
            states.append(ModelState(k, *snapshot[k], battles=v, is_new=boost and new))
        else:
            states.append(ModelState(k, battles=v, is_new=boost))
    return states


ARRIVAL_VARIANTS = (("uniform", None), ("active, no boost", False), ("active (production: is_new x5)", True))
ARRIVAL_SHORT = {"uniform": "uniform", "active, no boost": "no boost", "active (production: is_new x5)": "active"}


def arrivals_scenario(args, engine, min_votes, prelim_below):
    """Models join one at a time on a fixed schedule; every strategy runs to the same budget."""
    m = args.models
    schedule = [0] * args.arrivals_initial + [args.arrivals_every * (i + 1) for i in range(m - args.arrivals_initial)]
    out = {name: [] for name, _ in ARRIVAL_VARIANTS}
    reps = []
    for rep in range(args.arrivals_reps):
        seed = args.seed_base + rep
        rng = np.random.default_rng([seed, 20_000])
        strengths, spread = true_strengths(rng, m, args.spread)
        keys = [f"m{i}" for i in range(m)]
        s_of = dict(zip(keys, strengths))
        arrival_order = [keys[i] for i in rng.permutation(m)]  # independent of strength
        arrives = dict(zip(arrival_order, schedule))
        order = sorted(keys, key=lambda k: -s_of[k])
        reps.append(
            {"spread": spread, "strengths": np.array([s_of[k] for k in arrival_order]), "arrival_order": arrival_order}
        )
        for v, (name, boost) in enumerate(ARRIVAL_VARIANTS):
            vrng = np.random.default_rng([seed, 20_000, 1 + v])
            arena = Arena(keys, strengths)
            snapshot, snap_votes, snap_connected = {}, {}, set()
            snap_pairs = {}
            present, states = [], None
            curve = {}
            while arena.votes < args.arrivals_budget:
                stop = min(args.arrivals_budget, (arena.votes // args.refit_every + 1) * args.refit_every)
                while arena.votes < stop:
                    now = [k for k in arrival_order if arrives[k] <= arena.votes]
                    if now != present:
                        present, states = now, None
                    if boost is None:
                        i, j = vrng.choice(len(present), 2, replace=False)
                        a, b = present[i], present[j]
                    else:
                        if states is None:
                            states = production_states(
                                present, snapshot, snap_votes, snap_connected, boost, min_votes, prelim_below
                            )
                        counts = snap_pairs if args.arrivals_snapshot_counts else arena.pair_counts
                        a, b = choose_pair(states, counts, vrng)
                    arena.vote(vrng, a, b)
                board, _, _ = engine.fit(arena.rows(), args.rounds, seed * 100_000 + 40_000 + 10_000 * v + arena.votes)
                snapshot = board
                snap_votes = dict(arena.battles)
                snap_pairs = dict(arena.pair_counts)
                snap_connected = _connected(present, arena.pair_counts)
                states = None
                widths = {k: board[k][2] - board[k][1] for k in keys if k in board}
                rated = [k for k in order if k in board]
                curve[arena.votes] = {
                    "width": float(np.mean([widths[k] for k in keys])) if len(widths) == m else float("nan"),
                    "width_present": float(np.mean(list(widths.values()))),
                    "spearman": spearman([s_of[k] for k in rated], [board[k][0] for k in rated]),
                    "widths": [widths.get(k, float("nan")) for k in arrival_order],
                    "battles": [arena.battles[k] for k in arrival_order],
                    "present": len(present),
                }
            out[name].append(curve)
        if not args.no_oracle:
            reps[-1]["bound"] = arrivals_bound(reps[-1]["strengths"], schedule, args.arrivals_budget)
    return out, reps, schedule


def arrivals_bound(strengths, schedule, budget, iters=200):
    """Fisher-information bound under the arrival schedule: fewest votes V with which the best
    allocation knowing the true strengths (votes of each time segment spread over the pairs
    present then, any shares) reaches the asymptotic mean standard error that uniform pairing
    of the present models has at `budget`. Returns 1 - V / budget. Ties ignored."""
    m = len(strengths)
    pairs = np.array(list(itertools.combinations(range(m), 2)))
    d = strengths[pairs[:, 0]] - strengths[pairs[:, 1]]
    p = 1.0 / (1.0 + 10.0 ** (-d / 400.0))
    info = p * (1.0 - p)
    slot = np.searchsorted(sorted(set(schedule)), schedule)  # segment from which a model is present
    release = np.maximum(slot[pairs[:, 0]], slot[pairs[:, 1]])
    starts = np.array(sorted(set(schedule)), float)
    masks = [release <= s for s in range(len(starts))]

    def lengths(total):
        ends = np.append(starts[1:], total)
        return np.clip(ends - starts, 0.0, None)

    def mean_sd(n, grad=False):
        lap = np.zeros((m, m))
        ww = info * n
        np.add.at(lap, (pairs[:, 0], pairs[:, 0]), ww)
        np.add.at(lap, (pairs[:, 1], pairs[:, 1]), ww)
        np.add.at(lap, (pairs[:, 0], pairs[:, 1]), -ww)
        np.add.at(lap, (pairs[:, 1], pairs[:, 0]), -ww)
        cov = np.linalg.pinv(lap)
        sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
        if not grad:
            return sd.mean()
        diff = cov[:, pairs[:, 0]] - cov[:, pairs[:, 1]]
        return sd.mean(), -(info * ((0.5 / sd)[:, None] * diff**2).sum(axis=0)) / m

    shares = [mk / mk.sum() for mk in masks]  # start: uniform over the pairs present
    target = mean_sd(sum(L * x for L, x in zip(lengths(budget), shares)))

    def best(total):
        L = lengths(total)
        for _ in range(iters):  # exponentiated gradient, one simplex per time segment
            _, g = mean_sd(sum(length * x for length, x in zip(L, shares)), grad=True)
            for s, mk in enumerate(masks):
                gs = np.where(mk, g, 0.0)
                gs = gs - np.dot(gs, shares[s])
                scale = np.abs(gs[mk]).max()
                if scale > 0:
                    shares[s] = np.where(mk, shares[s] * np.exp(-0.05 * gs / scale), 0.0)
                    shares[s] /= shares[s].sum()
        return mean_sd(sum(length * x for length, x in zip(L, shares)))

    lo, hi = float(max(schedule)), float(budget)
    while hi - lo > 5.0:  # smallest V whose optimum reaches the target (the optimum falls with V)
        mid = 0.5 * (lo + hi)
        if best(mid) <= target:
            hi = mid
        else:
            lo = mid
    return 1.0 - hi / budget


def saving_stats(votes, wu_all, wa_all, k_budget, first):
    """Headline saving (averaged curves) and its spread. Curves are rows of widths at `votes`;
    crossings are searched from index `first` on; W = uniform's width at index k_budget."""
    v = votes[first:]

    def saving(cu, ca):
        n = votes_to_reach(v, ca[first:], cu[k_budget])
        return (100.0 * (1.0 - n / votes[k_budget]) if n is not None else -np.inf), n

    head, n_head = saving(wu_all.mean(axis=0), wa_all.mean(axis=0))
    per_rep = np.array([saving(cu, ca)[0] for cu, ca in zip(wu_all, wa_all)])
    boot_rng = np.random.default_rng(12345)
    boot = []
    for _ in range(1000):
        idx = boot_rng.integers(0, len(wu_all), len(wu_all))
        boot.append(saving(wu_all[idx].mean(axis=0), wa_all[idx].mean(axis=0))[0])
    return head, n_head, per_rep, np.percentile(boot, [2.5, 97.5])


def report_arrivals(args, engine):
    t1 = time.perf_counter()
    min_votes, prelim_below, how = production_new_thresholds()
    curves, reps, schedule = arrivals_scenario(args, engine, min_votes, prelim_below)
    names = [n for n, _ in ARRIVAL_VARIANTS]
    budget = args.arrivals_budget
    last = max(schedule)
    votes = sorted(curves["uniform"][0])
    first = next(i for i, v in enumerate(votes) if v > last)
    kb = votes.index(budget)
    spreads = [r["spread"] for r in reps]
    print()
    print(
        f"STAGGERED ARRIVALS ({args.arrivals_reps} repetitions, seeds {args.seed_base}..{args.seed_base + args.arrivals_reps - 1}, "
        f"own random streams): {args.models} models, true spread U[{args.spread[0]:.0f}, {args.spread[1]:.0f}] "
        f"(drawn: min {min(spreads):.0f}, median {np.median(spreads):.0f}, max {max(spreads):.0f}); "
        f"{args.arrivals_initial} present at vote 0, then one joins every {args.arrivals_every} votes "
        f"(last at {last} = {last / budget:.0%} of the budget), arrival order random; budget {budget} votes; "
        f"no warm-up; refit every {args.refit_every} votes with {args.rounds} bootstrap rounds"
    )
    print(
        f"  uniform = random pair of the models present; active = choose_pair(defaults) on the models present, "
        f"{'SNAPSHOT' if args.arrivals_snapshot_counts else 'live'} pair counts; is_new as in battles.py: missing from the "
        f"latest snapshot (< LEADERBOARD_MIN_VOTES = {min_votes} votes, or arrived since) or preliminary "
        f"(< LEADERBOARD_PRELIMINARY_BELOW = {prelim_below} votes, or not connected) - {how}"
    )

    def avg(name, key):
        return np.array([np.mean([c[v][key] for c in curves[name]]) for v in votes])

    width = {n: avg(n, "width") for n in names}
    present_w = {n: avg(n, "width_present") for n in names}
    rho = {n: avg(n, "spearman") for n in names}
    print("mean 95% interval width (points; * = mean over the models present so far, not yet all) and Spearman rho")
    short = [ARRIVAL_SHORT[n] for n in names]
    print(
        "  votes models | width "
        + " ".join(f"{n:>9s}" for n in short)
        + " | active/uniform | rho "
        + " ".join(f"{n:>8s}" for n in short)
    )
    for k, v in enumerate(votes):
        if v % 500 and v != budget:
            continue
        allin = k >= first
        w = width if allin else present_w
        star = " " if allin else "*"
        npres = curves["uniform"][0][v]["present"]
        print(
            f"  {v:5d} {npres:6d} |       "
            + " ".join(f"{w[n][k]:8.1f}{star}" for n in names)
            + f" |          {w[names[-1]][k] / w['uniform'][k]:5.3f} |     "
            + " ".join(f"{rho[n][k]:8.3f}" for n in names)
        )

    target = width["uniform"][kb]
    print(
        f"target W = uniform's mean 95% width over all {args.models} models at {budget} votes = {target:.1f} points; "
        f"crossings searched from {votes[first]} votes (first refit with every model present), so the largest "
        f"measurable saving is {100 * (1 - votes[first] / budget):.1f}% (and no strategy can beat {100 * (1 - last / budget):.0f}%: "
        f"the last model only exists from vote {last})"
    )
    print(f"BASELINE uniform: {budget} votes to reach W")
    wu_all = np.array([[c[v]["width"] for v in votes] for c in curves["uniform"]])
    for n in names[1:]:
        wa_all = np.array([[c[v]["width"] for v in votes] for c in curves[n]])
        head, n_head, per_rep, (lo, hi) = saving_stats(votes, wu_all, wa_all, kb, first)
        ok = per_rep[np.isfinite(per_rep)]
        label = "ACTIVE" if n == names[-1] else "active without the boost"
        at_first = n_head is not None and n_head <= votes[first]
        if n_head is None:
            print(f"{label}: does not reach W within {budget} votes (width there {width[n][kb]:.1f}) -> no saving")
        else:
            print(
                f"{label}: {'<= ' if at_first else ''}{n_head:.0f} votes to reach W; ratio {n_head / budget:.3f}; "
                f"saving {'>= ' if at_first else ''}{head:.1f}%  (target >= 30%: "
                f"{'met' if head >= 30 else 'NOT met'}, measured/target = {head / 30:.2f})"
            )
        print(
            f"  saving per repetition (own W): median {np.median(ok):.1f}%, quartiles {np.percentile(ok, 25):.1f}% .. "
            f"{np.percentile(ok, 75):.1f}%, range {ok.min():.1f}% .. {ok.max():.1f}%"
            + (f", {np.sum(~np.isfinite(per_rep))} never reached W" if np.any(~np.isfinite(per_rep)) else "")
            + f"; 95% interval from resampling the repetitions: {lo:.1f}% .. {hi:.1f}%"
        )
    bounds = [r["bound"] for r in reps if "bound" in r]
    if bounds:
        print(
            f"bound (Fisher information, best allocation under the same arrival schedule, knows the true strengths; "
            f"ties ignored): saving {100 * np.mean(bounds):.1f}% on average, range {100 * min(bounds):.1f}% .. "
            f"{100 * max(bounds):.1f}%"
        )
    for v in sorted({votes[first], budget}):
        k = votes.index(v)
        parts = []
        for n in names[1:]:
            diff = np.array([ca[v]["spearman"] - cu[v]["spearman"] for cu, ca in zip(curves["uniform"], curves[n])])
            se = diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
            parts.append(f"{n} {rho[n][k]:.3f} ({diff.mean():+.3f} +- {se:.3f} s.e.)")
        print(f"equal budget {v} votes: Spearman uniform {rho['uniform'][k]:.3f}, " + ", ".join(parts))
    print(
        f"at {budget} votes, by arrival (first {args.arrivals_initial} = present from the start): mean width / mean votes"
    )
    groups = [
        ("initial", slice(0, args.arrivals_initial)),
        ("middle arrivals", slice(args.arrivals_initial, args.models - 1)),
        ("last arrival", slice(args.models - 1, args.models)),
    ]
    for n in names:
        w = np.array([c[budget]["widths"] for c in curves[n]])
        b = np.array([c[budget]["battles"] for c in curves[n]])
        print(
            f"  {n:32s}: "
            + "; ".join(f"{g} {w[:, sl].mean():5.1f} pts / {b[:, sl].mean():5.0f} votes" for g, sl in groups)
        )
    print(f"[arrivals scenario {time.perf_counter() - t1:.0f} s]")
