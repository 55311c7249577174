"""The issue's acceptance path: votes simulated from known strengths, written in FastChat's
clean-battle schema, go through `import_battles` and `export_leaderboard`, and the exported
scores agree with an independent implementation (scipy L-BFGS on FastChat's loss)."""

import json
import math

import numpy as np
import pytest
from django.core.management import call_command
from scipy import optimize

pytestmark = pytest.mark.django_db

MODELS = [f"model-{i}" for i in range(8)]
TRUE = np.linspace(850, 1150, len(MODELS))
VOTES = 8000


def simulate(rng) -> list[dict]:
    records = []
    for n in range(VOTES):
        i, j = rng.choice(len(MODELS), size=2, replace=False)
        p = 1 / (1 + 10 ** ((TRUE[j] - TRUE[i]) / 400))
        u = rng.random()
        winner = "tie" if u < 0.08 else ("model_a" if u < 0.08 + 0.92 * p else "model_b")
        records.append(
            {
                "question_id": f"q{n}",
                "model_a": MODELS[i],
                "model_b": MODELS[j],
                "winner": winner,
                "judge": f"arena_user_{n % 300}",
                "anony": True,
                "tstamp": 1.7e9 + n,
                "turn": 1,
            }
        )
    return records


def independent_fit(records) -> dict[str, float]:
    """FastChat's published method: unique (a, b, outcome) rows, L-BFGS, mean-1000 anchor."""
    index = {m: k for k, m in enumerate(MODELS)}
    outcome = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}
    rows = np.array([(index[r["model_a"]], index[r["model_b"]], outcome[r["winner"]]) for r in records])
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    a, b, y = unique[:, 0].astype(int), unique[:, 1].astype(int), unique[:, 2]
    alpha = math.log(10)

    def loss(theta):
        logits = alpha * (theta[a] - theta[b])
        p = 1 / (1 + np.exp(-logits))
        value = -np.sum(counts * (y * np.log(p) + (1 - y) * np.log(1 - p)))
        grad_logit = counts * (p - y) * alpha
        grad = np.zeros_like(theta)
        np.add.at(grad, a, grad_logit)
        np.add.at(grad, b, -grad_logit)
        return value, grad

    theta = optimize.minimize(
        loss, np.zeros(len(MODELS)), jac=True, method="L-BFGS-B", options={"maxiter": 200, "gtol": 1e-9}
    ).x
    scores = 400 * theta
    return dict(zip(MODELS, scores - scores.mean() + 1000))


def test_simulated_fastchat_votes_through_import_and_export(tmp_path, settings):
    settings.LEADERBOARD_MIN_VOTES = 1
    settings.RATING_BOOTSTRAP_ROUNDS = 300
    records = simulate(np.random.default_rng(7))
    battles_file = tmp_path / "clean_battle.json"
    battles_file.write_text(json.dumps(records))
    call_command("import_battles", str(battles_file), "--pool", "official")
    out = tmp_path / "leaderboard.json"
    call_command("export_leaderboard", "--format", "json", "--pool", "official", "--recompute", "--output", str(out))
    exported = json.loads(out.read_text())
    rows = exported["models"] if isinstance(exported, dict) else exported
    ours = {row["model"]: row["score"] for row in rows}
    reference = independent_fit(records)
    assert set(ours) == set(MODELS)
    worst = max(abs(ours[m] - reference[m]) for m in MODELS)
    assert worst <= 0.5, f"differs from the independent fit by {worst:.2f} points"
    # and both recover the truth's order
    order = [m for m, _ in sorted(ours.items(), key=lambda kv: kv[1])]
    assert order == MODELS
    covered = sum(row["lower"] <= TRUE[MODELS.index(row["model"])] - TRUE.mean() + 1000 <= row["upper"] for row in rows)
    assert covered >= 6, f"only {covered} of 8 95% intervals cover the true strength"
