"""Optional CLIP text-video alignment (workers/media/neural.py, clip_alignment.py): a tiny
random-weight CLIP model and tokenizer built in the test and saved to a directory stand in for
the operator's checkpoint. The score is a cosine in [-1, 1], depends on the prompt, is stored
with the clip's other measurements; a missing model is a clear error that leaves the other
measurements alone; nothing imports torch unless the metric is configured."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.pictures import natural_picture
from tests.tiny_clip import WORDS, build_tokenizer, save_tiny_clip
from tests.unit.test_measure_clips_command import stored_clip
from webapp.catalog.services import load_catalog
from webapp.studio.services import measurements
from workers.media import neural
from workers.media.measure import METRIC_KEYS

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY = neural.TEXT_ALIGNMENT_KEY


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory) -> Path:
    return save_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.stack([natural_picture(64, 112, seed=i) for i in range(12)])


def test_the_score_is_a_cosine_that_depends_on_the_prompt(tiny_clip_dir, frames):
    aligner = neural.load_text_alignment(str(tiny_clip_dir))
    scores = {text: aligner(frames, text) for text in ("a red ball bouncing over ocean waves", "a cat", "dog")}
    assert all(-1.0 <= s <= 1.0 for s in scores.values()), scores
    assert len({round(s, 6) for s in scores.values()}) == 3, scores  # the text reaches the score
    assert aligner(frames, "a cat") == pytest.approx(scores["a cat"], abs=1e-6)  # deterministic
    assert aligner(frames[:1], "a cat") != pytest.approx(scores["a cat"], abs=1e-6)  # the frames too


def test_a_missing_or_broken_model_is_a_clear_error(tmp_path):
    with pytest.raises(neural.NeuralMetricUnavailable, match="no CLIP model there") as missing:
        neural.load_text_alignment(str(tmp_path / "nowhere"))
    assert missing.value.code == "neural_model_missing" and "nowhere" in str(missing.value)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "clip"}))
    with pytest.raises(neural.NeuralMetricUnavailable, match="not a loadable CLIP model") as broken:
        neural.load_text_alignment(str(tmp_path))
    assert broken.value.code == "neural_model_invalid"


def test_measuring_without_the_metric_imports_no_torch():
    code = (
        "import sys; import workers.media.measure, workers.media.neural; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, timeout=60)


@pytest.mark.django_db
def test_the_score_is_stored_with_the_other_measurements(media_root, settings, tiny_clip_dir):
    load_catalog()
    settings.CLIP_MODEL_PATH = str(tiny_clip_dir)
    clip = stored_clip(media_root, "a red ball bouncing over ocean waves")
    measurements.measure_stored_clip(clip.pk)
    clip.refresh_from_db()
    assert set(clip.measurements) == {*METRIC_KEYS, KEY}  # jsonb keeps no key order
    assert -1.0 <= clip.measurements[KEY] <= 1.0
    assert clip.measurements["motion_mean"] > 0


@pytest.mark.django_db
def test_a_missing_model_leaves_the_other_measurements_stored(media_root, settings, tmp_path, caplog):
    load_catalog()
    settings.CLIP_MODEL_PATH = str(tmp_path / "not-there")
    clip = stored_clip(media_root, "a cat")
    with caplog.at_level(logging.WARNING, logger=measurements.log.name):
        measurements.measure_stored_clip(clip.pk)
    clip.refresh_from_db()
    assert clip.measurements[KEY] is None
    assert clip.measurements["motion_mean"] > 0 and clip.measurements["sharpness"] > 0
    assert f"{KEY} not measured" in caplog.text and "not-there" in caplog.text


@pytest.mark.django_db
def test_a_model_that_fails_on_a_clip_leaves_the_other_measurements_stored(media_root, settings, tmp_path, caplog):
    # A tokenizer that does not match its model: "zebra" gets an id beyond the model's vocabulary.
    model_dir = save_tiny_clip(tmp_path / "mismatched")
    build_tokenizer([*WORDS, "zebra"]).save_pretrained(model_dir)
    load_catalog()
    settings.CLIP_MODEL_PATH = str(model_dir)
    clip = stored_clip(media_root, "zebra")
    with caplog.at_level(logging.WARNING, logger=measurements.log.name):
        measurements.measure_stored_clip(clip.pk)
    clip.refresh_from_db()
    assert clip.measurements[KEY] is None and clip.measurements["motion_mean"] > 0
    assert "the CLIP model failed on this clip" in caplog.text
