"""Running a real adapter against its fake server in-process (contract tests)."""

from __future__ import annotations

import pytest

from tests.fakes.all_vendors import VENDORS, params_for, worker_env
from workers.backends.base import GenerationRequest
from workers.backends.registry import get_backend


@pytest.fixture
def vendor_env(monkeypatch):
    for name, value in worker_env().items():
        monkeypatch.setenv(name, value)
    for name in ("SCREENTEST_INSECURE_DOWNLOAD_HOSTS",):
        monkeypatch.delenv(name, raising=False)


def start_fake(key: str):
    return VENDORS[key][1]().start()


def make_request(
    key: str,
    fake,
    prompt: str = "a red fox running through snow",
    *,
    duration_s: float = 5,
    aspect_ratio: str = "16:9",
    negative_prompt: str = "",
    **param_overrides,
) -> GenerationRequest:
    params = params_for(key, fake, **param_overrides)
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


def generate(key: str, request: GenerationRequest, tmp_path, *, resume: str | None = None):
    submitted: list[str] = []
    result = get_backend(key).generate(
        request, workdir=tmp_path, resume_vendor_job_id=resume, on_submitted=submitted.append
    )
    return result, submitted
