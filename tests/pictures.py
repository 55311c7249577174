"""Pictures with known statistics for the image-quality tests, made in numpy with a fixed seed."""

from __future__ import annotations

import numpy as np


def natural_picture(height: int = 256, width: int = 456, seed: int = 0) -> np.ndarray:
    """RGB uint8 noise with a 1/f amplitude spectrum, the spectrum of natural scenes (what
    no-reference quality models such as BRISQUE are fitted on), centred on mid-grey."""
    rng = np.random.default_rng(seed)
    f = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])
    f[0, 0] = 1
    channels = []
    for _ in range(3):
        spectrum = (rng.normal(size=(height, width)) + 1j * rng.normal(size=(height, width))) / f
        c = np.real(np.fft.ifft2(spectrum))
        channels.append((c - c.mean()) / c.std())
    return np.clip(128 + 40 * np.stack(channels, -1), 0, 255).astype(np.uint8)
