"""What a job on a model is estimated to cost, in USD: one definition for the prompt suite's
estimate (`manage.py run_suite`) and the studio's spend budget (studio/services/budget.py).

A model's price is catalog data, `backend_params.price_per_second_usd`: the key the vendor
adapters bill by (workers/backends/vendor.py). Runway's entry states its price in credits
(`credits_per_second`, a credit is $0.01), as its adapter does. Procedural demo models cost
nothing. Any other model has no known price: `None`, and each caller decides what that means
(the suite asks for confirmation, the budget counts it at a conservative default).

The seconds billed are those the adapter will send: vendors accept a few fixed durations
(`backend_params.durations`), and a request between two is sent as the longer one.
"""

from __future__ import annotations

import math

from workers.backends.vendor import pick_duration

from .models import VideoModel

PRICE_KEY = "price_per_second_usd"
DEMO_BACKEND = "demo"
# Backends whose catalog entries state `credits_per_second`, and the USD price of one credit.
CREDIT_PRICES_USD = {"runway": 0.01}


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _params(model: VideoModel) -> dict:
    return model.backend_params if isinstance(model.backend_params, dict) else {}


def price_per_second(model: VideoModel) -> float | None:
    """USD per second of video: the catalog's price, 0 for the procedural demo models, None when
    unknown (no price, or one that is not a non-negative number)."""
    params = _params(model)
    if params.get(PRICE_KEY) is not None:
        return _number(params[PRICE_KEY])
    credit_usd = CREDIT_PRICES_USD.get(model.backend_key)
    if credit_usd is not None and params.get("credits_per_second") is not None:
        credits = _number(params["credits_per_second"])
        return None if credits is None else credits * credit_usd
    if model.is_procedural_demo or model.backend_key == DEMO_BACKEND:
        return 0.0
    return None


def billed_seconds(model: VideoModel, duration_s: float) -> float:
    """The seconds the vendor is asked for: the shortest of the model's `durations` that covers
    the request (else the longest), or the request itself when the catalog lists none."""
    listed = _params(model).get("durations")
    allowed = [d for d in (_number(d) for d in listed) if d] if isinstance(listed, list) else []
    return pick_duration(duration_s, allowed) if allowed else float(duration_s)


def estimate_usd(model: VideoModel, duration_s: float) -> float | None:
    """One job of `duration_s` seconds on `model`; None when the model has no known price."""
    price = price_per_second(model)
    return None if price is None else price * billed_seconds(model, duration_s)
