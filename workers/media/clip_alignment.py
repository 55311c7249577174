"""Text-video alignment with a CLIP model from a local directory (docs/metrics.md): the mean,
over frames sampled evenly through the clip, of the cosine similarity between the frame's
image embedding and the prompt's text embedding.

Imported only through neural.load_text_alignment, on workers with the `local` extra. Never
reaches a hub: HF_HUB_OFFLINE is set before transformers is imported, and every load passes
local_files_only=True. Frames are prepared here (shortest side resized to the model's input
size, bicubic, centre crop, the checkpoint's mean/std) rather than by transformers' image
processor, which in transformers 5 wants torchvision, not a dependency of this project.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers reads it

import cv2
import numpy as np
import torch
from transformers import AutoTokenizer, CLIPModel

from .neural import NeuralMetricUnavailable

# Frames embedded per clip, evenly spaced from the first analysed frame to the last.
ALIGNMENT_FRAMES = 8
# OpenAI CLIP's normalisation, used when the checkpoint has no preprocessor_config.json.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class ClipAligner:
    model: Any  # transformers CLIPModel, eval mode
    tokenizer: Any
    size: int
    mean: np.ndarray
    std: np.ndarray

    def __call__(self, frames: np.ndarray, text: str) -> float:
        picks = np.unique(np.linspace(0, len(frames) - 1, num=min(ALIGNMENT_FRAMES, len(frames))).round().astype(int))
        pixels = torch.from_numpy(np.stack([self.prepare(frames[i]) for i in picks]))
        max_length = self.model.config.text_config.max_position_embeddings
        tokens = self.tokenizer([text], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        try:
            with torch.inference_mode():
                images = _embedding(self.model.get_image_features(pixel_values=pixels))
                words = _embedding(self.model.get_text_features(**tokens))
        except (RuntimeError, ValueError, IndexError) as exc:  # e.g. a checkpoint whose shapes disagree
            raise NeuralMetricUnavailable(
                f"the CLIP model failed on this clip: {exc}", code="neural_model_failed"
            ) from exc
        images = images / images.norm(dim=-1, keepdim=True)
        words = words / words.norm(dim=-1, keepdim=True)
        return float((images @ words.T).mean())

    def prepare(self, rgb: np.ndarray) -> np.ndarray:
        """One RGB uint8 frame as the model's (3, size, size) float32 input."""
        h, w = rgb.shape[:2]
        scale = self.size / min(h, w)
        resized = cv2.resize(
            rgb, (max(self.size, round(w * scale)), max(self.size, round(h * scale))), interpolation=cv2.INTER_CUBIC
        )
        top, left = (resized.shape[0] - self.size) // 2, (resized.shape[1] - self.size) // 2
        crop = resized[top : top + self.size, left : left + self.size].astype(np.float32) / 255.0
        normalised: np.ndarray = ((crop - self.mean) / self.std).transpose(2, 0, 1)
        return np.ascontiguousarray(normalised, dtype=np.float32)


def _embedding(output: Any) -> torch.Tensor:
    # transformers 5 returns a model output whose pooler_output is the projected embedding;
    # earlier versions returned the tensor itself.
    tensor: torch.Tensor = output if isinstance(output, torch.Tensor) else output.pooler_output
    return tensor


@functools.cache
def load(model_path: str) -> ClipAligner:
    """The CLIP model, tokenizer and normalisation saved at `model_path`, loaded once per
    process. NeuralMetricUnavailable names the path when there is no usable model there."""
    path = Path(model_path)
    if not (path / "config.json").is_file():
        raise NeuralMetricUnavailable(
            f"CLIP_MODEL_PATH {model_path!r}: no CLIP model there (no config.json); save one with "
            "CLIPModel.save_pretrained and its tokenizer with save_pretrained into that directory",
            code="neural_model_missing",
        )
    try:
        model = CLIPModel.from_pretrained(path, local_files_only=True).eval()
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, RuntimeError) as exc:
        raise NeuralMetricUnavailable(
            f"CLIP_MODEL_PATH {model_path!r}: not a loadable CLIP model and tokenizer: {exc}",
            code="neural_model_invalid",
        ) from exc
    mean, std = CLIP_MEAN, CLIP_STD
    preprocessor = path / "preprocessor_config.json"
    if preprocessor.is_file():
        config = json.loads(preprocessor.read_text())
        mean, std = config.get("image_mean", mean), config.get("image_std", std)
    return ClipAligner(
        model=model,
        tokenizer=tokenizer,
        size=int(model.config.vision_config.image_size),
        mean=np.array(mean, dtype=np.float32),
        std=np.array(std, dtype=np.float32),
    )
