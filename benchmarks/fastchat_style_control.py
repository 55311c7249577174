"""FastChat's style-control fit, vendored for benchmarks/style_control.py (the baseline).

Copied from https://github.com/lm-sys/FastChat/blob/0e6d3e4beaab66f4d3f93db72541a4abab8af28d/fastchat/serve/monitor/rating_systems.py
(lm-sys/FastChat, commit 0e6d3e4beaab66f4d3f93db72541a4abab8af28d, 2025-04-12).

Copyright the FastChat authors (lm-sys, LMSYS Org). Licensed under the Apache License, Version 2.0
(the "License"); you may not use this file except in compliance with the License. You may obtain
a copy of the License at http://www.apache.org/licenses/LICENSE-2.0. Unless required by applicable
law or agreed to in writing, software distributed under the License is distributed on an "AS IS"
BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the License
for the specific language governing permissions and limitations under the License.

Changes (Apache-2.0 section 4(b)): only what is needed here is kept --
``contextual_bt_loss_and_grad`` and ``fit_contextual_bt`` verbatim (reformatted by ruff), and
``bootstrap_style_control``, which is ``compute_bootstrap_style_control`` without the pandas
DataFrame in and out (it takes the arrays ``preprocess_for_style`` returns and returns the
arrays) and with ``multiprocessing.Pool(...).imap_unordered`` replaced by an in-process ``map``
(the benchmark machine's cores are shared; the per-round work is unchanged), plus
``features_like_preprocess_for_style``, the z-scoring step of ``preprocess_for_style``.
"""

# ruff: noqa
import math
from functools import partial

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit


def features_like_preprocess_for_style(style_diff):
    """The last lines of ``preprocess_for_style``: z-score each (already normalised) difference
    over the battles. ``style_diff`` is (K, N) as there; returns (N, K)."""
    style_mean = np.mean(style_diff, axis=1)
    style_std = np.std(style_diff, axis=1)
    features = ((style_diff - style_mean[:, np.newaxis]) / style_std[:, np.newaxis]).T
    return features


DIFF_MASK = np.array([1.0, -1.0], dtype=np.float64)  # create globally to not incur the instantiation cost in each call


def contextual_bt_loss_and_grad(
    params,
    n_competitors,
    matchups,
    features,
    outcomes,
    alpha=1.0,
    reg=1.0,
    half_reg=0.5,
):
    reg_loss = half_reg * np.inner(params, params)

    # Split params into ratings and feature parameters
    ratings = params[:n_competitors]
    feature_params = params[n_competitors:]

    matchup_ratings = ratings[matchups]
    bt_logits = alpha * (matchup_ratings[:, 0] - matchup_ratings[:, 1])
    context_logits = np.dot(features, feature_params)
    probs = expit(bt_logits + context_logits)
    loss = -(np.log(probs) * outcomes + np.log(1.0 - probs) * (1.0 - outcomes)).sum() + reg_loss

    error = outcomes - probs
    grad = reg * params  # initialize the grad as the regularization grad
    matchups_grads = -alpha * error
    np.add.at(grad[:n_competitors], matchups[:, [0, 1]], matchups_grads[:, None] * DIFF_MASK)
    grad[n_competitors:] -= np.dot(features.T, error)
    return loss, grad


# note on regularization:
# default reg is to 0.5 since the LogisticRegression default is 1.0
# in the original implementation, matchups were duplicated
# that made the ratio of log loss to reg loss "twice as high"
# in this non-duplicated version for parity we also reduce the reg by one half to match
def fit_contextual_bt(
    matchups,
    features,
    outcomes,
    models,
    idxs=None,
    alpha=math.log(10.0),
    reg=0.5,
    tol=1e-6,
):
    n_features = features.shape[1]
    n_models = len(models)
    initial_params = np.zeros(n_models + n_features, dtype=np.float64)
    half_reg = reg / 2.0

    # sample idxs optionally allow for fitting on a bootstrap sample of the dataset
    if idxs is not None:
        matchups, features, outcomes = matchups[idxs], features[idxs], outcomes[idxs]

    result = minimize(
        fun=contextual_bt_loss_and_grad,
        x0=initial_params,
        args=(n_models, matchups, features, outcomes, alpha, reg, half_reg),
        jac=True,
        method="L-BFGS-B",
        options={"disp": False, "maxiter": 100, "gtol": tol},
    )
    return result["x"]


def bootstrap_style_control(
    matchups,
    features,
    outcomes,
    models,
    num_round,
    alpha=math.log(10.0),
    reg=0.5,
    tol=1e-6,
):
    """``compute_bootstrap_style_control`` on arrays, in one process. Returns (ratings
    (num_round, M) on FastChat's natural log10 scale, params (num_round, K))."""
    contextual_bt_fn = partial(
        fit_contextual_bt,
        matchups,
        features,
        outcomes,
        models,
        alpha=alpha,
        reg=reg,
        tol=tol,
    )

    boot_idxs = np.random.randint(low=0, high=matchups.shape[0], size=(num_round, matchups.shape[0]))

    results = list(map(contextual_bt_fn, boot_idxs))

    ratings_params = np.array(results)
    ratings = ratings_params[:, : len(models)]
    params = ratings_params[:, len(models) :]
    return ratings, params
