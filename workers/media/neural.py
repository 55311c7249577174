"""Optional neural measurements (docs/metrics.md): loaded only where the operator configured a
local model path and installed the `local` extra (torch, transformers). This module imports
neither; `load_text_alignment` imports the torch module by name on first use, as the backend
registry does for adapters, so that the web process and the CPU workers never need torch.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

import numpy as np

from .errors import MediaError

# The key the CLIP text-video alignment is stored under in Clip.measurements.
TEXT_ALIGNMENT_KEY = "clip_text_alignment"
TEXT_ALIGNMENT_MODULE = "workers.media.clip_alignment"

# frames (n, h, w, 3) RGB uint8, prompt text -> cosine similarity in [-1, 1]
TextAligner = Callable[[np.ndarray, str], float]


class NeuralMetricUnavailable(MediaError):
    """A configured neural measurement cannot run here (no model at the path, no torch).
    The other measurements go on without it."""

    code = "neural_metric_unavailable"


def load_text_alignment(model_path: str) -> TextAligner:
    """The CLIP scorer for the model saved at `model_path` (kept warm per process). Raises
    NeuralMetricUnavailable with the reason when the `local` extra or the model is missing."""
    try:
        module = import_module(TEXT_ALIGNMENT_MODULE)
    except ImportError as exc:
        raise NeuralMetricUnavailable(
            f"CLIP text alignment needs the `local` extra (torch, transformers) on this worker: {exc}",
            code="neural_extra_missing",
        ) from exc
    aligner: TextAligner = module.load(model_path)
    return aligner
