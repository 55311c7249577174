"""Backend key -> adapter class, imported lazily so a missing optional SDK or a broken
adapter only affects the models that use it."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from .base import BackendCatalog, VideoBackend

BACKENDS: dict[str, str] = {
    "demo": "workers.backends.demo.ProceduralDemoBackend",
    "openai-sora": "workers.backends.sora.SoraBackend",
    "runway": "workers.backends.runway.RunwayBackend",
    "luma": "workers.backends.luma.LumaBackend",
    "luma-agents": "workers.backends.luma_agents.LumaAgentsBackend",
    "kling": "workers.backends.kling.KlingBackend",
    "fal": "workers.backends.fal.FalBackend",
    "google-veo": "workers.backends.veo.VeoBackend",
    "replicate": "workers.backends.replicate.ReplicateBackend",
    # imports torch: only the gpu queue's workers ever generate with it (LOCAL_BACKENDS)
    "diffusers": "workers.backends.diffusers_local.DiffusersBackend",
}

# Adapters whose module needs an optional extra (torch) name a light class with the same catalog
# knowledge (key, key variables, capabilities), so the web process and the vendor workers check
# catalog entries without that extra installed (`scripts/up.sh` and the web image have none).
CATALOG_CLASSES: dict[str, str] = {
    "diffusers": "workers.backends.diffusers_params.DiffusersCatalog",
}

# Backends that run on this deployment's own accelerators: their jobs go to the `gpu` queue,
# one job per worker process, instead of the `generate` queue of the vendor adapters.
LOCAL_BACKENDS = frozenset({"diffusers"})


class UnknownBackend(LookupError):
    pass


def _imported(dotted: str):
    module_name, _, attr = dotted.rpartition(".")
    return getattr(import_module(module_name), attr)


@cache
def backend_class(key: str) -> type[VideoBackend]:
    """The adapter that generates (may import an optional extra)."""
    try:
        return _imported(BACKENDS[key])
    except KeyError:
        raise UnknownBackend(f"no backend is registered under {key!r}") from None


@cache
def catalog_class(key: str) -> type[BackendCatalog]:
    """What catalog checks and status reports ask of an adapter, never needing an optional extra."""
    if key not in BACKENDS:
        raise UnknownBackend(f"no backend is registered under {key!r}")
    return _imported(CATALOG_CLASSES[key]) if key in CATALOG_CLASSES else backend_class(key)


def get_backend(key: str) -> VideoBackend:
    return backend_class(key)()
