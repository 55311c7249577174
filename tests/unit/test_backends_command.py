"""`manage.py backends` and the standalone fake-vendor process an operator runs."""

import json
import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from tests.fakes.all_vendors import VENDORS, catalog_entry, start_all, stop_all, worker_env
from webapp.catalog.models import VideoModel
from webapp.catalog.services import load_catalog
from workers.backends.registry import BACKENDS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def run_backends(*args) -> str:
    out = StringIO()
    call_command("backends", *args, stdout=out)
    return out.getvalue()


def test_lists_every_backend_and_whether_its_key_is_set_without_printing_it(monkeypatch):
    load_catalog()
    for name in ("OPENAI_API_KEY", "RUNWAYML_API_SECRET", "RUNWAYML_API_SECRET_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-very-secret-123")
    text = run_backends()
    for key in BACKENDS:
        assert key in text
    lines = text.splitlines()
    assert any(line.startswith("openai-sora") and " configured" in line for line in lines)
    assert any(line.startswith("runway") and "NOT configured" in line for line in lines)
    assert "sk-live-very-secret-123" not in text
    assert "sora-2-pro" in text and "https://api.openai.com/v1" in text


def test_a_backend_whose_required_setting_is_empty_is_not_configured_and_names_it(monkeypatch):
    load_catalog()
    monkeypatch.setenv("LUMA_AGENTS_API_KEY", "luma-agents-key-123456")
    monkeypatch.delenv("SCREENTEST_LUMA_AGENTS_DOWNLOAD_HOSTS", raising=False)
    lines = run_backends().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("luma-agents"))
    assert "NOT configured" in lines[start]
    assert "missing settings: SCREENTEST_LUMA_AGENTS_DOWNLOAD_HOSTS" in "\n".join(lines[start : start + 4])
    monkeypatch.setenv("SCREENTEST_LUMA_AGENTS_DOWNLOAD_HOSTS", "cdn.example.com")
    lines = run_backends().splitlines()
    luma_agents = next(line for line in lines if line.startswith("luma-agents"))
    assert " configured" in luma_agents and "NOT" not in luma_agents
    assert not any("missing settings" in line for line in lines)


def test_the_shipped_vendor_models_are_disabled_until_an_operator_enables_them():
    load_catalog()
    vendor_models = VideoModel.objects.exclude(backend_key="demo")
    assert {m.backend_key for m in vendor_models} == set(BACKENDS) - {"demo"}
    assert not any(m.enabled for m in vendor_models)


def test_check_runs_a_live_generation_against_the_configured_endpoint(monkeypatch):
    fakes = start_all()
    try:
        for name, value in worker_env(fakes).items():
            monkeypatch.setenv(name, value)
        VideoModel.objects.create(**catalog_entry("kling", fakes["kling"]))
        text = run_backends("--check", "fake-kling")
        assert "check fake-kling: ok: vendor job" in text
        fakes["kling"].fail_next(401, {"code": 1002, "message": "Authorization is invalid"})
        assert "FAILED (auth_failed)" in run_backends("--check", "fake-kling")
    finally:
        stop_all(fakes)


def test_the_standalone_fake_process_serves_every_vendor_and_writes_a_loadable_catalog(tmp_path):
    catalog = tmp_path / "fakes.json"
    first_port = 18701 + os.getpid() % 500 * 10
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.serve", "--first-port", str(first_port), "--catalog", str(catalog)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not catalog.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert catalog.exists(), "the fake process did not write its catalog"
        created, _ = load_catalog(catalog)
        assert created == len(VENDORS)
        reply = httpx.get(f"http://127.0.0.1:{first_port}/v1/videos/nope", timeout=5)
        assert reply.status_code == 401 and reply.json()["error"]["code"] == "invalid_api_key"
        entries = json.loads(catalog.read_text())["models"]
        assert not any("base_url" in entry["backend_params"] for entry in entries)  # endpoints: environment only
    finally:
        proc.terminate()
        proc.wait(timeout=10)
