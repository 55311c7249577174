"""Each adapter declares what its models take; check_entry and unable_to_honour answer from it,
and catalog data can no longer choose where requests or keys go (issue 12.1a)."""

import pytest

from tests.fakes.contract import generate, make_request, vendor_env  # noqa: F401
from workers.backends.base import PermanentError
from workers.backends.capabilities import RequestedOptions, check_entry, retirement, summary, unable_to_honour
from workers.backends.registry import BACKENDS, backend_class
from workers.backends.vendor import load_config

SORA = {"vendor_model": "sora-2", "durations": [4, 8, 12], "sizes": {"16:9": [1280, 720], "9:16": [720, 1280]}}
GEN45 = {"vendor_model": "gen4.5", "durations": [5, 10], "sizes": {"16:9": [1280, 720], "9:16": [720, 1280]}}


def test_every_backend_declares_a_fixed_list_of_key_variables():
    expected = {
        "demo": (),
        "openai-sora": ("OPENAI_API_KEY",),
        "runway": ("RUNWAYML_API_SECRET",),
        "luma": ("LUMAAI_API_KEY",),
        "luma-agents": ("LUMA_AGENTS_API_KEY",),
        "kling": ("KLING_ACCESS_KEY", "KLING_SECRET_KEY"),
        "fal": ("FAL_KEY",),
        "google-veo": ("GEMINI_API_KEY",),
        "replicate": ("REPLICATE_API_TOKEN",),
        "diffusers": (),  # local weights on our own GPUs: no keys
    }
    assert {key: backend_class(key).key_env_names for key in BACKENDS} == expected


@pytest.mark.parametrize(
    "smuggled",
    [
        {"base_url": "https://attacker.example/v1", "api_key_env": "SECRET_KEY"},
        {"api_key_env": "SECRET_KEY"},
        {"secret_key_env": "DATABASE_URL"},
        {"download_hosts": ["attacker.example"]},
    ],
)
def test_catalog_params_cannot_choose_the_endpoint_or_the_key(smuggled, vendor_env, monkeypatch, tmp_path):
    fake = vendor_env.start("kling")
    monkeypatch.setenv("SECRET_KEY", "django-secret-0123456789")
    with pytest.raises(PermanentError) as caught:
        generate("kling", make_request("kling", **smuggled), tmp_path)
    assert caught.value.code == "forbidden_param"
    assert fake.recorded == []  # not a single request left
    assert check_entry("kling", {"vendor_model": "kling-v2-6", "durations": [5], **smuggled}, [5], ["16:9"])


def test_the_endpoint_ignores_catalog_params_and_follows_the_operator(monkeypatch):
    monkeypatch.delenv("SCREENTEST_RUNWAY_BASE_URL", raising=False)
    cls = backend_class("runway")
    assert load_config(cls(), {"base_url": "https://attacker.example"}).base_url == "https://api.dev.runwayml.com"
    monkeypatch.setenv("SCREENTEST_RUNWAY_BASE_URL", "https://runway-proxy.internal.example")
    assert load_config(cls(), {}).base_url == "https://runway-proxy.internal.example"


@pytest.mark.parametrize(
    "key, params, durations, aspects, expected",
    [
        ("openai-sora", SORA, [4, 8, 12], ["16:9", "9:16"], []),
        ("openai-sora", SORA, [16, 20], ["16:9"], ["offers 16 s", "offers 20 s"]),
        ("openai-sora", {**SORA, "sizes": {"16:9": [1920, 1080]}}, [4], ["16:9"], ["size 1920x1080"]),
        ("runway", GEN45, [5, 10], ["16:9", "9:16"], []),
        ("runway", GEN45, [5], ["1:1"], ["offers aspect 1:1"]),
        ("runway", {**GEN45, "generate_audio": True}, [5], ["16:9"], ["no sound switch"]),
        ("runway", {**GEN45, "vendor_model": "gen5"}, [5], ["16:9"], ["no model 'gen5'"]),
        ("kling", {"vendor_model": "kling-v3", "generate_audio": True}, [3, 15], ["1:1"], []),
        ("luma", {"vendor_model": "ray-2"}, [5, 10], ["16:9"], ["offers 10 s"]),
        ("google-veo", {"vendor_model": "veo-3.1-fast-generate-preview"}, [4, 6, 8], ["1:1"], ["aspect 1:1"]),
        ("no-such-backend", {}, [5], ["16:9"], ["no backend"]),
    ],
)
def test_check_entry_names_what_is_impossible(key, params, durations, aspects, expected):
    reasons = check_entry(key, params, durations, aspects)
    assert len(reasons) == len(expected), reasons
    for reason, fragment in zip(reasons, expected, strict=True):
        assert fragment in reason


def test_retirement_is_reported_with_date_and_source_not_as_an_impossibility():
    retired = retirement("openai-sora", SORA)
    assert retired.since == "2026-09-24" and "openai-python" in retired.source
    assert retirement("runway", GEN45) is None


def test_which_model_cannot_honour_what():
    entries = [
        ("sora-2", "openai-sora", SORA),
        ("gen-4-5", "runway", GEN45),
        ("kling-2-6", "kling", {"vendor_model": "kling-v2-6", "durations": [5, 10], "generate_audio": True}),
        ("ray-2", "luma", {"vendor_model": "ray-2", "durations": [5, 9]}),
    ]
    wish = RequestedOptions(duration_s=5, aspect_ratio="9:16", audio=True, seed=True, negative_prompt=True)
    found = unable_to_honour(entries, wish)
    verdicts = {slug: [s.message for s in shortfalls] for slug, shortfalls in found.items()}
    assert any("retired" in r for r in verdicts["sora-2"]) and any("5 s" in r for r in verdicts["sora-2"])
    assert verdicts["gen-4-5"] == ["makes no sound", "takes no negative prompt: it is not sent"]
    assert verdicts["kling-2-6"] == ["takes no seed: its results are not reproducible"]
    assert "makes no sound" in verdicts["ray-2"] and "takes no negative prompt: it is not sent" in verdicts["ray-2"]
    blocking = {slug for slug, shortfalls in found.items() if any(s.blocking for s in shortfalls)}
    assert blocking == {"sora-2"}  # retired; the others make something close to the request
    quiet = RequestedOptions(duration_s=10, aspect_ratio="16:9", audio=False)
    assert unable_to_honour(entries[1:2], quiet) == {}
    assert [str(s) for s in unable_to_honour(entries[2:3], quiet)["kling-2-6"]] == ["its catalog entry turns sound on"]
    square = unable_to_honour(entries[1:2], RequestedOptions(duration_s=5, aspect_ratio="1:1"))
    assert [(s.message, s.blocking) for s in square["gen-4-5"]] == [("cannot make 1:1 (takes 16:9, 9:16)", True)]


def test_a_models_summary_says_what_it_takes():
    ray = {"vendor_model": "ray-2", "durations": [5, 9]}
    assert summary("luma", ray, ["16:9", "9:16"]) == "5, 9 s; 16:9, 9:16; silent; no seed; no negative prompt"
    assert summary("demo", {}) == "1-20 s; 16:9, 9:16, 1:1; silent"
    kling = {"vendor_model": "kling-v2-6", "durations": [5, 10], "generate_audio": True}
    assert summary("kling", kling) == "5, 10 s; 16:9, 9:16, 1:1; sound; no seed"
    assert summary("openai-sora", SORA).startswith("retired since 2026-09-24; ")
