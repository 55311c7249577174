"""Backend key -> adapter class, imported lazily so a missing optional SDK or a broken
adapter only affects the models that use it."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from .base import VideoBackend

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

# Backends that run on this deployment's own accelerators: their jobs go to the `gpu` queue,
# one job per worker process, instead of the `generate` queue of the vendor adapters.
LOCAL_BACKENDS = frozenset({"diffusers"})


class UnknownBackend(LookupError):
    pass


@cache
def backend_class(key: str) -> type[VideoBackend]:
    try:
        dotted = BACKENDS[key]
    except KeyError:
        raise UnknownBackend(f"no backend is registered under {key!r}") from None
    module_name, _, attr = dotted.rpartition(".")
    return getattr(import_module(module_name), attr)


def get_backend(key: str) -> VideoBackend:
    return backend_class(key)()
