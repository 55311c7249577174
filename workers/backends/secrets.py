"""API keys: only from the environment or from a secret file named by `<NAME>_FILE`.

Keys never come from the database or the catalog (the catalog names the environment
variable, not the value), are never logged, and are redacted from every error text an adapter
raises (`redact`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .base import PermanentError

MIN_REDACTED_LENGTH = 6


def read_secret(env_name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The stripped contents of the file `env_name + "_FILE"` points at (Docker/Kubernetes
    secrets), else the value of `env_name`; None when neither is set. The file wins, as it
    does for the web's settings, so a stale plain variable cannot shadow a rotated secret."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    file_path = env.get(f"{env_name}_FILE", "").strip()
    if file_path:
        try:
            value = Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise PermanentError(
                f"cannot read the secret file named by {env_name}_FILE: {exc.strerror}", code="missing_api_key"
            ) from None
        return value or None
    return env.get(env_name, "").strip() or None


def require_secret(env_name: str) -> str:
    value = read_secret(env_name)
    if not value:
        raise PermanentError(f"{env_name} (or {env_name}_FILE) is not set on this worker", code="missing_api_key")
    return value


def is_configured(*env_names: str) -> bool:
    try:
        return all(read_secret(name) for name in env_names)
    except PermanentError:
        return False


def redact(text: str, secrets: list[str] | tuple[str, ...]) -> str:
    for secret in secrets:
        if secret and len(secret) >= MIN_REDACTED_LENGTH:
            text = text.replace(secret, "[redacted]")
    return text
