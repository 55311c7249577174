"""What `manage.py backends` reports: every registered backend, the models that use it,
whether the keys it needs are set on this machine (never their values), and an optional live
smoke check."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from workers.backends.base import BackendError, GenerationRequest
from workers.backends.registry import BACKENDS, UnknownBackend, backend_class, catalog_class
from workers.backends.secrets import is_configured
from workers.backends.vendor import load_config

from .models import VideoModel
from .sizes import frame_size


@dataclass
class BackendStatus:
    key: str
    models: list[str]
    key_envs: list[str]
    configured: bool
    base_url: str
    # Operator settings the adapter needs that are empty here (names only).
    missing_settings: list[str] = field(default_factory=list)
    check: str = ""


def backend_statuses() -> list[BackendStatus]:
    statuses = []
    for key in sorted(BACKENDS):
        models = list(VideoModel.objects.filter(backend_key=key).order_by("slug"))
        try:
            cls = catalog_class(key)
        except (UnknownBackend, ImportError, AttributeError) as exc:
            statuses.append(BackendStatus(key, [m.slug for m in models], [], False, f"(cannot import: {exc})"))
            continue
        params = models[0].backend_params if models else {}
        envs = list(cls.key_env_names)
        base = load_config(cls(), params).base_url if hasattr(cls, "default_base_url") else "(local)"
        missing = [name for name in getattr(cls, "required_setting_envs", ()) if not os.environ.get(name, "").strip()]
        keys_set = is_configured(*envs) if envs else True
        statuses.append(BackendStatus(key, [m.slug for m in models], envs, keys_set and not missing, base, missing))
    return statuses


def smoke_check(model: VideoModel, *, prompt: str = "a calm lake at sunrise, slow pan") -> str:
    """One real, short generation through the adapter (costs money on a paid vendor)."""
    width, height = frame_size(model.backend_params, "16:9")
    request = GenerationRequest(
        prompt=prompt,
        duration_s=min(model.max_duration_s, 4.0),
        width=width,
        height=height,
        aspect_ratio="16:9",
        seed=1,
        params=dict(model.backend_params),
        client_reference="screentest-smoke-check",
    )
    with tempfile.TemporaryDirectory() as tmp:
        try:
            result = backend_class(model.backend_key)().generate(
                request, workdir=Path(tmp), resume_vendor_job_id=None, on_submitted=lambda _id: None
            )
        except BackendError as exc:
            return f"FAILED ({exc.code}): {exc}"
        size = Path(result.video_path).stat().st_size
    return f"ok: vendor job {result.vendor_job_id}, {size} bytes, cost {result.cost_usd}"
