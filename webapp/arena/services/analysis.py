"""The board's analyses, computed with the ratings (services/board.py) and stored in the same
RatingSnapshot (``analysis``), so pages only read them:

* ``controlled``: the style-controlled board and each covariate's coefficient
  (workers/ratings/style_control.py);
* ``agreement``: per automatic measurement, pairwise accuracy and rank correlation with the
  board (workers/ratings/agreement.py);
* ``prompts``: a board per prompt (with intervals) and the prompts that separate the board's
  top two models most.

Only arena votes count here: an imported vote has no clips and no prompt.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from django.db.models import QuerySet

from webapp.studio.models import Prompt
from workers import ratings
from workers.media.measure import LOWER_IS_BETTER
from workers.ratings import agreement, bradley_terry, style_control

from . import covariates

PROMPT_MIN_VOTES = 10  # a prompt's board needs at least this many counted votes
PROMPT_BOARDS_MAX = 100  # the prompts with most votes get a board
PROMPT_ROUNDS = 200  # bootstrap rounds per prompt board (many small fits)
SEPARATING_SHOWN = 10


def _round(value, digits=4):
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else round(value, digits)


def controlled_board(rows: covariates.VoteRows, listed: list[str]) -> dict:
    per_clip = {cid: covariates.clip_covariates(row) for cid, row in rows.clips.items()}
    names = [c.name for c in style_control.COVARIATES]
    side_a, side_b = rows.side_values(per_clip, names)
    result = style_control.fit_style_control(
        rows.models,
        rows.a,
        rows.b,
        rows.outcome,
        style_control.battle_differences(side_a, side_b),
        rows.count,
        listed=np.array([m in listed for m in rows.models], dtype=bool),
        complete=style_control.complete_rows(side_a, side_b),
    )
    return {
        "votes": result.votes,
        "votes_all_known": result.votes_all_known,
        "interval": result.interval,
        "rows": [
            {
                **dataclasses.asdict(r),
                "score": round(r.score, 1),
                "lower": round(r.lower, 1),
                "upper": round(r.upper, 1),
            }
            for r in result.ratings
        ],
        "coefficients": [
            {
                **dataclasses.asdict(c),
                **{k: _round(getattr(c, k)) for k in ("coef", "lower", "upper", "sd", "win_share")},
                "points": round(style_control.effect_in_points(c.coef), 1),
            }
            for c in result.coefficients
        ],
    }


def agreement_rows(rows: covariates.VoteRows, scores: dict[str, float]) -> list[dict]:
    per_clip = {cid: covariates.clip_metrics(row) for cid, row in rows.clips.items()}
    metrics = sorted({name for values in per_clip.values() for name in values})
    side_a, side_b = rows.side_values(per_clip, metrics)
    clip_ids = list(rows.clips)
    clip_model = np.array([rows.clips[c]["job__model__slug"] for c in clip_ids], dtype=object)
    out = []
    for name in metrics:
        values = np.array([per_clip[c].get(name, math.nan) for c in clip_ids])
        row = agreement.metric_agreement(
            name,
            side_a[name],
            side_b[name],
            rows.outcome,
            rows.count,
            agreement.model_medians(clip_model, values),
            scores,
            higher_is_better=name not in LOWER_IS_BETTER,
        )
        fields = {k: _round(v) if isinstance(v, float) else v for k, v in dataclasses.asdict(row).items()}
        out.append({**fields, "prefers": "lower" if name in LOWER_IS_BETTER else "higher"})
    return out


WINNER_OF = {1.0: "model_a", 0.5: "tie", 0.0: "model_b"}


def prompt_boards(rows: covariates.VoteRows, top_two: list[str]) -> dict:
    """A board per prompt (most-voted first) and, for the board's top two models, the
    prompts where their gap is most clearly decided (its bootstrap interval furthest from 0)."""
    by_prompt = {
        prompt: [(a, b, WINNER_OF[outcome], int(n)) for a, b, outcome, n in grouped]
        for prompt, grouped in rows.by_prompt().items()
    }
    totals = {p: sum(r[3] for r in grouped) for p, grouped in by_prompt.items()}
    chosen = sorted((p for p, t in totals.items() if t >= PROMPT_MIN_VOTES), key=lambda p: (-totals[p], p))
    chosen = chosen[:PROMPT_BOARDS_MAX]
    texts = dict(Prompt.objects.filter(id__in=chosen).values_list("id", "text"))
    public = dict(Prompt.objects.filter(id__in=chosen).values_list("id", "public_id"))
    boards: list[dict[str, Any]] = []
    separating: list[dict[str, Any]] = []
    for prompt_id in chosen:
        counts = ratings.from_rows(by_prompt[prompt_id])
        board = ratings.leaderboard(counts, rounds=PROMPT_ROUNDS, seed=0)
        entry = {
            "prompt": public[prompt_id],
            "text": texts[prompt_id],
            "votes": totals[prompt_id],
            "rows": [
                {"model": r.model, "score": round(r.score, 1), "lower": round(r.lower, 1), "upper": round(r.upper, 1)}
                | {"votes": r.votes}
                for r in board
            ],
        }
        boards.append(entry)
        if len(top_two) == 2 and all(m in counts.models for m in top_two):
            i, j = (counts.models.index(m) for m in top_two)
            theta, boot = bradley_terry.fit_point_and_bootstrap(counts, PROMPT_ROUNDS, 0, ratings.PRIOR_TIES)
            gap = float(bradley_terry.ELO_SCALE * (theta[i] - theta[j]))
            boot_gap = bradley_terry.ELO_SCALE * (boot[:, i] - boot[:, j])
            lo, hi = (float(x) for x in np.percentile(boot_gap, [2.5, 97.5]))
            separating.append(
                {
                    "prompt": entry["prompt"],
                    "text": entry["text"],
                    "votes": entry["votes"],
                    "gap": round(gap, 1),
                    "lower": round(lo, 1),
                    "upper": round(hi, 1),
                    "decided": round(max(lo, -hi), 1),  # > 0: the interval excludes a tie
                }
            )
    separating.sort(key=lambda s: (-s["decided"], s["prompt"]))
    return {"top_two": top_two, "boards": boards, "separating": separating[:SEPARATING_SHOWN]}


def compute(votes: QuerySet, board_rows: list[dict]) -> dict:
    """Everything above for one board; ``board_rows`` are the raw board's rows, best first."""
    listed = [r["model"] for r in board_rows]
    rows = covariates.vote_rows(votes)
    return {
        "controlled": controlled_board(rows, listed),
        "agreement": agreement_rows(rows, {r["model"]: r["score"] for r in board_rows}),
        "prompts": prompt_boards(rows, listed[:2]),
    }
