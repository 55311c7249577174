"""BRISQUE, a no-reference image quality score (Mittal, Moorthy & Bovik, *No-Reference Image
Quality Assessment in the Spatial Domain*, IEEE TIP 21(12), 2012), computed with numpy/OpenCV
from the parameters that ship in the `brisque` package (PyPI `brisque` 0.2.0, Apache-2.0; the
same files as `image-quality` 1.2.7), copied verbatim into data/brisque/ with their licence so
that nothing is downloaded and no scikit-image or libsvm is needed (docs/metrics.md).

Per picture: 18 statistics of the mean-subtracted contrast-normalised (MSCN) luma and of its
four neighbour products (asymmetric generalised Gaussian fits), at the picture's size and at
half of it; scaled to [-1, 1] by the shipped ranges; fed to the shipped epsilon-SVR (RBF
kernel). The result is on the training set's DMOS-like scale: about 0 (pristine) to 100 (very
distorted), lower is better; values outside that range happen.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.special import gamma as gamma_fn

DATA_DIR = Path(__file__).parent / "data" / "brisque"
FEATURES = 36

# The MSCN window of the reference implementation: a 7x7 Gaussian, sigma 7/6, zero outside the
# picture (scipy.signal.convolve2d 'same'), and the stabilising constant 1/255 on luma in [0, 1].
_KERNEL_SIZE, _KERNEL_SIGMA, _C = 7, 7 / 6, 1 / 255
# Rec. 709 luma weights, as scikit-image's rgb2gray (what the parameters were fitted with).
_LUMA = np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)
# The shape parameter is looked up on BRISQUE's own grid (0.2 to 10 by 0.001, the original
# MATLAB release's search) rather than root-found: no solver that can fail to converge.
_ALPHAS = np.arange(0.2, 10.0 + 1e-9, 0.001)
_RHO_OF_ALPHA = gamma_fn(2 / _ALPHAS) ** 2 / (gamma_fn(1 / _ALPHAS) * gamma_fn(3 / _ALPHAS))


@dataclass(frozen=True)
class BrisqueModel:
    support_vectors: np.ndarray  # (n, FEATURES)
    coefficients: np.ndarray  # (n,)
    gamma: float
    rho: float
    feature_min: np.ndarray  # (FEATURES,)
    feature_max: np.ndarray


def _kernel() -> np.ndarray:
    y, x = np.indices((_KERNEL_SIZE, _KERNEL_SIZE)) - _KERNEL_SIZE // 2
    k = np.exp(-(x**2 + y**2) / (2 * _KERNEL_SIGMA**2))
    return (k / k.sum()).astype(np.float32)


_WINDOW = _kernel()


def parse_libsvm_model(text: str) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(support vectors, their coefficients, gamma, rho) of a libsvm epsilon-SVR/RBF model file."""
    header: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if line.strip() == "SV":
            break
        key, _, value = line.partition(" ")
        header[key] = value.strip()
    if header.get("svm_type") != "epsilon_svr" or header.get("kernel_type") != "rbf":
        raise ValueError(
            f"Not an epsilon-SVR with an RBF kernel: {header.get('svm_type')}, {header.get('kernel_type')}"
        )
    coefficients, vectors = [], []
    for line in lines:
        if not line.strip():
            continue
        coef, *pairs = line.split()
        row = np.zeros(FEATURES)
        for pair in pairs:  # sparse "index:value", 1-based; absent indices are 0
            index, value = pair.split(":")
            row[int(index) - 1] = float(value)
        coefficients.append(float(coef))
        vectors.append(row)
    if len(vectors) != int(header["total_sv"]):
        raise ValueError(f"{header['total_sv']} support vectors announced, {len(vectors)} read")
    return np.array(vectors), np.array(coefficients), float(header["gamma"]), float(header["rho"])


@functools.cache
def shipped_model() -> BrisqueModel:
    """The parameters of data/brisque/ (read once per process)."""
    vectors, coefficients, gamma, rho = parse_libsvm_model((DATA_DIR / "svm.txt").read_text())
    scale = json.loads((DATA_DIR / "scale.json").read_text())
    return BrisqueModel(
        vectors, coefficients, gamma, rho, np.array(scale["min_"], dtype=float), np.array(scale["max_"], dtype=float)
    )


def luma(rgb: np.ndarray) -> np.ndarray:
    """An RGB uint8 picture as float32 luma in [0, 1] (scikit-image's rgb2gray)."""
    gray: np.ndarray = rgb.astype(np.float32) @ _LUMA / 255.0
    return gray


def mscn(gray: np.ndarray) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients: (I - mu) / (sigma + C), mu and sigma
    local Gaussian-weighted moments, zero outside the picture as in the reference code."""
    mu = cv2.filter2D(gray, cv2.CV_32F, _WINDOW, borderType=cv2.BORDER_CONSTANT)
    second = cv2.filter2D(gray * gray, cv2.CV_32F, _WINDOW, borderType=cv2.BORDER_CONSTANT)
    sigma = np.sqrt(np.abs(mu * mu - second))
    out: np.ndarray = (gray - mu) / (sigma + _C)
    return out


def aggd_fit(x: np.ndarray) -> tuple[float, float, float, float]:
    """Asymmetric generalised Gaussian by moment matching: (shape alpha, mean, left variance,
    right variance). NaN where one side is empty (a flat picture)."""
    x = x.ravel()
    n_left = int(np.count_nonzero(x < 0))
    n_right = x.size - n_left
    if n_left == 0 or n_right == 0:
        return (float("nan"),) * 4
    # Dot products rather than masked copies of each side: the fit runs 20 times per picture.
    negative = np.minimum(x, 0)
    total_sq, left_sq = float(np.dot(x, x)), float(np.dot(negative, negative))
    var_l, var_r = left_sq / n_left, (total_sq - left_sq) / n_right
    mean_sq = total_sq / x.size
    if var_l <= 0 or var_r <= 0:
        return (float("nan"),) * 4
    g = np.sqrt(var_l) / np.sqrt(var_r)
    r_hat = (float(np.abs(x).sum(dtype=np.float64)) / x.size) ** 2 / mean_sq
    big_r = r_hat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    alpha = float(_ALPHAS[np.argmin((_RHO_OF_ALPHA - big_r) ** 2)])
    constant = np.sqrt(gamma_fn(1 / alpha) / gamma_fn(3 / alpha))
    mean = (np.sqrt(var_r) - np.sqrt(var_l)) * constant * gamma_fn(2 / alpha) / gamma_fn(1 / alpha)
    return alpha, float(mean), var_l, var_r


def scale_features(gray: np.ndarray) -> list[float]:
    """The 18 statistics of one scale: (alpha, variance) of the MSCN coefficients, then
    (alpha, mean, left variance, right variance) of the horizontal, vertical, main-diagonal and
    secondary-diagonal neighbour products."""
    m = mscn(gray)
    alpha, _, var_l, var_r = aggd_fit(m)
    out = [alpha, (var_l + var_r) / 2]
    for product in (m[:, :-1] * m[:, 1:], m[:-1, :] * m[1:, :], m[:-1, :-1] * m[1:, 1:], m[1:, :-1] * m[:-1, 1:]):
        out.extend(aggd_fit(product))
    return out


def brisque_features(gray: np.ndarray) -> np.ndarray:
    """The 36 features: at the picture's size, then at half (bicubic, as `brisque` 0.2.0)."""
    half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_CUBIC)
    return np.array(scale_features(gray) + scale_features(half))


def brisque_score(rgb: np.ndarray, model: BrisqueModel | None = None) -> float | None:
    """BRISQUE of one RGB uint8 picture (lower = better), None where it is undefined (a flat
    picture has no contrast to normalise) or the picture is too small for the two scales."""
    if min(rgb.shape[:2]) < 2 * _KERNEL_SIZE:
        return None
    features = brisque_features(luma(rgb))
    if not np.all(np.isfinite(features)):
        return None
    model = model or shipped_model()
    scaled = -1 + 2.0 * (features - model.feature_min) / (model.feature_max - model.feature_min)
    distances = np.sum((model.support_vectors - scaled) ** 2, axis=1)
    return float(model.coefficients @ np.exp(-model.gamma * distances) - model.rho)
