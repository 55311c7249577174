"""Every vendor entry of the shipped catalog asks only for what its model takes: check_entry
finds nothing impossible, and its fake (which validates against the vendor's published
schema) accepts the request for every duration and aspect ratio the entry offers."""

import json
from pathlib import Path

import pytest

from tests.fakes.contract import generate, vendor_env  # noqa: F401
from workers.backends.base import GenerationRequest
from workers.backends.capabilities import check_entry

CATALOG = Path(__file__).resolve().parents[2] / "webapp" / "catalog" / "data" / "catalog.json"
# Local models (backend "diffusers") have no vendor and so no fake: tests/unit/test_backend_diffusers.py
# checks their entries against the adapter and runs a tiny one.
VENDOR_ENTRIES = [m for m in json.loads(CATALOG.read_text())["models"] if m["backend_key"] not in ("demo", "diffusers")]


def offered(entry) -> tuple[list, list]:
    return entry["backend_params"]["durations"], entry.get("supported_aspect_ratios") or ["16:9"]


@pytest.mark.parametrize("entry", VENDOR_ENTRIES, ids=lambda e: e["slug"])
def test_the_entry_is_possible_and_cites_its_sources(entry):
    durations, aspects = offered(entry)
    assert check_entry(entry["backend_key"], entry["backend_params"], durations, aspects) == []
    assert entry["backend_params"].get("sources"), "every vendor entry cites where its facts come from"
    assert not entry["enabled"], "vendor models ship disabled until a key is set"
    assert max(durations) <= entry["max_duration_s"]


@pytest.mark.parametrize("entry", VENDOR_ENTRIES, ids=lambda e: e["slug"])
def test_its_fake_accepts_every_duration_and_aspect_it_offers(entry, vendor_env, tmp_path):
    key = entry["backend_key"]
    fake = vendor_env.start(key)
    durations, aspects = offered(entry)
    params = {**entry["backend_params"], "poll_interval_s": 0.01, "poll_deadline_s": 20}
    for seconds in durations:
        for aspect in aspects:
            width, height = params["sizes"][aspect]
            request = GenerationRequest(
                prompt="a lighthouse in a storm",
                duration_s=seconds,
                width=width,
                height=height,
                aspect_ratio=aspect,
                seed=3,
                negative_prompt="blurry",
                params=params,
                client_reference=f"catalog-{entry['slug']}-{seconds}-{aspect}",
            )
            workdir = tmp_path / f"{seconds}-{aspect.replace(':', 'x')}"
            workdir.mkdir()
            result, _ = generate(key, request, workdir)
            assert result.video_path.exists()
    assert len(fake.jobs) == len(durations) * len(aspects)
