"""Every fake vendor together: which fake serves which backend, the keys the fakes accept,
the worker environment that points the real adapters at the fakes (operator-style
SCREENTEST_<KEY>_BASE_URL plus the test-only SCREENTEST_TEST_RESOLVE that answers the
vendors' real hostnames with 127.0.0.1), and catalog entries for them. Used by the contract
tests, the integration test and `python -m tests.fakes.serve`."""

from __future__ import annotations

from collections.abc import Mapping

from workers.backends.netpolicy import TEST_RESOLVE_ENV
from workers.backends.vendor import env_key

from . import fake_fal, fake_kling, fake_luma, fake_luma_agents, fake_replicate, fake_runway, fake_sora, fake_veo
from .vendor_server import FakeVendor

LANDSCAPE = {"16:9": [1280, 720], "9:16": [720, 1280]}

# backend key -> (slug, fake class, catalog params without the endpoint)
VENDORS = {
    "openai-sora": (
        "fake-sora",
        fake_sora.FakeSora,
        "/v1",
        {"vendor_model": "sora-2", "durations": [4, 8, 12], "sizes": LANDSCAPE, "price_per_second_usd": 0.10},
    ),
    "runway": (
        "fake-runway",
        fake_runway.FakeRunway,
        "",
        {"vendor_model": "gen4.5", "durations": [5, 10], "sizes": LANDSCAPE, "credits_per_second": 12},
    ),
    "luma": (
        "fake-luma",
        fake_luma.FakeLuma,
        "/dream-machine/v1",
        {"vendor_model": "ray-2", "durations": [5, 9], "resolution": "720p", "sizes": LANDSCAPE},
    ),
    "luma-agents": (
        "fake-luma-agents",
        fake_luma_agents.FakeLumaAgents,
        "/v1",
        {"vendor_model": "ray-3.2", "durations": [5, 10], "resolution": "720p", "sizes": LANDSCAPE},
    ),
    "kling": (
        "fake-kling",
        fake_kling.FakeKling,
        "",
        {
            "vendor_model": "kling-v2-1-master",
            "durations": [5, 10],
            "mode": "std",
            "sizes": LANDSCAPE,
            "price_per_second_usd": 0.084,
        },
    ),
    "fal": (
        "fake-pika",
        fake_fal.FakeFal,
        "",
        {
            "app_id": "fal-ai/pika/v2.2/text-to-video",
            "durations": [5, 10],
            "sizes": LANDSCAPE,
            "input_fields": ["prompt", "negative_prompt", "duration", "aspect_ratio", "seed"],
            "extra_input": {"resolution": "720p"},
            "output_path": "video.url",
            "audio": "none",
            "price_per_second_usd": 0.04,
        },
    ),
    "google-veo": (
        "fake-veo",
        fake_veo.FakeVeo,
        "/v1beta",
        {
            "vendor_model": "veo-3.1-fast-generate-preview",
            "durations": [4, 6, 8],
            "resolution": "720p",
            "sizes": LANDSCAPE,
            "price_per_second_usd": 0.15,
        },
    ),
    "replicate": (
        "fake-replicate",
        fake_replicate.FakeReplicate,
        "",
        {
            "replicate_model": "minimax/video-01",
            "durations": [6],
            "sizes": {"16:9": [1280, 720]},
            "input_fields": ["prompt"],
            "audio": "none",
            "price_per_second_usd": 0.05,  # test data: the fake's price, not Replicate's
        },
    ),
}

KEYS = {
    "OPENAI_API_KEY": fake_sora.API_KEY,
    "RUNWAYML_API_SECRET": fake_runway.API_KEY,
    "LUMAAI_API_KEY": fake_luma.API_KEY,
    "LUMA_AGENTS_API_KEY": fake_luma_agents.API_KEY,
    "KLING_ACCESS_KEY": fake_kling.ACCESS_KEY,
    "KLING_SECRET_KEY": fake_kling.SECRET_KEY,
    "FAL_KEY": fake_fal.API_KEY,
    "GEMINI_API_KEY": fake_veo.API_KEY,
    "REPLICATE_API_TOKEN": fake_replicate.API_TOKEN,
}


def worker_env(fakes: Mapping[str, FakeVendor]) -> dict[str, str]:
    """What a worker needs to talk to these fakes: their keys, each backend's base URL under
    the vendor's real API hostname, and the test-only map of those hostnames (and the
    vendors' documented media hosts) to 127.0.0.1."""
    env = dict(KEYS)
    names = set()
    for key, fake in fakes.items():
        env[env_key(key, "BASE_URL")] = fake.vendor_url + VENDORS[key][2]
        names |= {fake.api_host, fake.media_host or fake.api_host}
        # Settings an operator must make for this vendor (Luma Agents: its output host).
        env.update(getattr(fake, "operator_env", dict)())
    env[TEST_RESOLVE_ENV] = ",".join(f"{name}=127.0.0.1" for name in sorted(names))
    return env


def params_for(key: str, fake: FakeVendor | None = None, **overrides) -> dict:
    """Catalog params for the fake's backend (no endpoint: that comes from worker_env)."""
    _slug, _cls, _prefix, params = VENDORS[key]
    merged = {**params, "poll_interval_s": 0.02, "poll_deadline_s": 20, **overrides}
    return {name: value for name, value in merged.items() if value is not None}


def catalog_entry(key: str, fake: FakeVendor) -> dict:
    slug, cls, _prefix, _params = VENDORS[key]
    return {
        "slug": slug,
        "display_name": f"{cls.__name__[4:]} (fake vendor)",
        "vendor": f"fake {cls.name}",
        "backend_key": key,
        "enabled": True,
        "max_duration_s": 10,
        "supported_aspect_ratios": sorted(VENDORS[key][3]["sizes"]),
        "description": f"The {key} adapter against the local fake server at {fake.url}.",
        "backend_params": params_for(key, fake),
    }


def start_all(ports: dict[str, int] | None = None) -> dict[str, FakeVendor]:
    started: dict[str, FakeVendor] = {}
    try:
        for key, (_slug, cls, _prefix, _params) in VENDORS.items():
            started[key] = cls(port=(ports or {}).get(key, 0)).start()
    except BaseException:
        stop_all(started)
        raise
    return started


def stop_all(fakes: dict[str, FakeVendor]) -> None:
    for fake in fakes.values():
        fake.stop()
