"""One cost estimate per model (webapp/catalog/pricing.py), read from the key the catalog and the
vendor adapters use, and the same figure in the prompt suite's estimate."""

import io

import pytest
from django.core.management import call_command

from webapp.arena.services import suite
from webapp.catalog import pricing
from webapp.catalog.models import VideoModel
from webapp.catalog.services import load_catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(db):
    load_catalog()
    return {m.slug: m for m in VideoModel.objects.all()}


def test_every_catalog_price_is_read(catalog):
    prices = {slug: pricing.price_per_second(m) for slug, m in catalog.items()}
    assert prices["openai-sora-2"] == 0.1 and prices["openai-sora-2-pro"] == 0.3
    assert prices["pika-2-2"] == 0.04 and prices["google-veo-3-1-fast"] == 0.15
    assert prices["runway-gen4-5"] == pytest.approx(0.12)  # 12 credits a second at $0.01
    assert prices["demo-aurora"] == prices["demo-lumen"] == prices["demo-pixel"] == 0.0
    # the catalog states no per-second price for these: unknown, never invented
    assert prices["luma-ray-2"] is None and prices["kling-v2-1-master"] is None
    assert prices["replicate-minimax-video-01"] is None


def test_the_estimate_bills_the_duration_the_vendor_is_sent(catalog):
    sora = catalog["openai-sora-2"]  # durations 4, 8, 12
    assert pricing.billed_seconds(sora, 4) == 4 and pricing.estimate_usd(sora, 4) == pytest.approx(0.4)
    assert pricing.billed_seconds(sora, 5) == 8 and pricing.estimate_usd(sora, 5) == pytest.approx(0.8)
    assert pricing.estimate_usd(catalog["pika-2-2"], 2) == pytest.approx(0.2)  # 5 s at $0.04
    assert pricing.estimate_usd(catalog["demo-aurora"], 7) == 0.0
    assert pricing.estimate_usd(catalog["luma-ray-2"], 5) is None


@pytest.mark.parametrize("value", ["cheap", -1, float("nan"), float("inf"), True, [1]])
def test_a_price_that_is_not_a_non_negative_number_is_unknown(value):
    model = VideoModel(slug="x", backend_key="sora", backend_params={"price_per_second_usd": value})
    assert pricing.price_per_second(model) is None


def test_a_demo_backend_model_with_a_price_costs_that_price():
    model = VideoModel(slug="x", backend_key="demo", backend_params={"price_per_second_usd": 2})
    assert pricing.estimate_usd(model, 3) == 6.0


def test_the_suite_estimate_uses_the_catalog_price(catalog):
    veo = catalog["google-veo-3-1-fast"]
    veo.enabled = True
    veo.save()
    settings, entries = suite.load_suite()
    items = suite.plan(settings, entries[:2], [veo])
    assert suite.cost(items) == pytest.approx(sum(pricing.estimate_usd(veo, i.duration_s) for i in items))
    assert suite.cost(items) > 0
    out = io.StringIO()
    call_command("run_suite", "--models", "google-veo-3-1-fast", "--limit", "2", "--dry-run", stdout=out)
    assert "unknown" not in out.getvalue()
    assert f"estimated cost: ${suite.cost(items):.2f} for 2 jobs" in out.getvalue()
