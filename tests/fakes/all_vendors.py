"""Every fake vendor together: which fake serves which backend, the keys the fakes accept,
and catalog entries that point the real adapters at the fakes. Used by the contract tests,
the integration test and `python -m tests.fakes.serve`."""

from __future__ import annotations

from . import fake_fal, fake_kling, fake_luma, fake_replicate, fake_runway, fake_sora, fake_veo
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
            "replicate_model": "wan-video/wan-2.5-t2v",
            "durations": [5, 10],
            "sizes": LANDSCAPE,
            "input_fields": ["prompt", "negative_prompt", "duration", "aspect_ratio", "seed"],
            "price_per_second_usd": 0.05,
        },
    ),
}

KEYS = {
    "OPENAI_API_KEY": fake_sora.API_KEY,
    "RUNWAYML_API_SECRET": fake_runway.API_KEY,
    "LUMAAI_API_KEY": fake_luma.API_KEY,
    "KLING_ACCESS_KEY": fake_kling.ACCESS_KEY,
    "KLING_SECRET_KEY": fake_kling.SECRET_KEY,
    "FAL_KEY": fake_fal.API_KEY,
    "GEMINI_API_KEY": fake_veo.API_KEY,
    "REPLICATE_API_TOKEN": fake_replicate.API_TOKEN,
}


def worker_env() -> dict[str, str]:
    """What a worker needs to talk to the fakes: their keys and the loopback test allow-list."""
    return {**KEYS, "SCREENTEST_INSECURE_HOSTS": "127.0.0.1"}


def params_for(key: str, fake: FakeVendor, **overrides) -> dict:
    _slug, _cls, prefix, params = VENDORS[key]
    return {
        **params,
        "base_url": fake.url + prefix,
        "download_hosts": ["127.0.0.1"],
        "poll_interval_s": 0.02,
        "poll_deadline_s": 20,
        **overrides,
    }


def catalog_entry(key: str, fake: FakeVendor) -> dict:
    slug, cls, _prefix, _params = VENDORS[key]
    return {
        "slug": slug,
        "display_name": f"{cls.__name__[4:]} (fake vendor)",
        "vendor": f"fake {cls.name}",
        "backend_key": key,
        "enabled": True,
        "max_duration_s": 10,
        "supported_aspect_ratios": ["16:9", "9:16"],
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
