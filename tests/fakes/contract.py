"""Running a real adapter against its fake server in-process (contract tests).

def test_x(vendor_env, tmp_path):
    fake = vendor_env.start("runway")   # started, env pointed at it, stopped after the test
    result, submitted = generate("runway", make_request("runway"), tmp_path)
"""

from __future__ import annotations

import pytest

from tests.fakes.all_vendors import VENDORS, params_for, worker_env
from workers.backends.base import GenerationRequest
from workers.backends.registry import get_backend
from workers.backends.vendor import CREATE_SENT_PREFIX


class VendorEnv:
    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.fakes = {}

    def start(self, key: str):
        fake = VENDORS[key][1]().start()
        self.fakes[key] = fake
        for name, value in worker_env(self.fakes).items():
            self.monkeypatch.setenv(name, value)
        return fake

    def stop(self) -> None:
        for fake in self.fakes.values():
            fake.stop()


@pytest.fixture
def vendor_env(monkeypatch):
    for name in ("SCREENTEST_INSECURE_HOSTS", "SCREENTEST_DOWNLOAD_PORTS"):
        monkeypatch.delenv(name, raising=False)
    env = VendorEnv(monkeypatch)
    yield env
    env.stop()


def make_request(
    key: str,
    prompt: str = "a red fox running through snow",
    *,
    duration_s: float = 5,
    aspect_ratio: str = "16:9",
    negative_prompt: str = "",
    **param_overrides,
) -> GenerationRequest:
    params = params_for(key, **param_overrides)
    width, height = params["sizes"][aspect_ratio]
    return GenerationRequest(
        prompt=prompt,
        duration_s=duration_s,
        width=width,
        height=height,
        aspect_ratio=aspect_ratio,
        seed=7,
        negative_prompt=negative_prompt,
        params=params,
        client_reference="screentest-job-1",
    )


def generate(key: str, request: GenerationRequest, tmp_path, *, resume: str | None = None, markers: bool = False):
    """The result and what the adapter reported through on_submitted: the vendor job ids only,
    or with `markers` also the "create sent" markers and their clearing ("") in order."""
    submitted: list[str] = []
    result = get_backend(key).generate(
        request, workdir=tmp_path, resume_vendor_job_id=resume, on_submitted=submitted.append
    )
    if not markers:
        submitted = [s for s in submitted if s and not s.startswith(CREATE_SENT_PREFIX)]
    return result, submitted
