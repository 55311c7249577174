"""What Screentest measured of a model from its own jobs and clips: the one definition that
the model page, the feature table and the leaderboard all show, so they cannot disagree."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from webapp.catalog.models import VideoModel
from workers.media.measure import METRIC_KEYS

from ..models import Clip, GenerationJob, JobState

FINISHED = (JobState.SUCCEEDED, JobState.FAILED, JobState.REJECTED_BY_VENDOR)
Row = Mapping[str, Any]
# How pages name each automatic measurement (docs/metrics.md defines them): label, unit / reading.
METRIC_LABELS = {
    "flicker": ("Temporal flicker (VBench)", "1 = no change between frames"),
    "motion_mean": ("Motion (optical flow)", "px per frame at 256 px"),
    "dynamic_degree": ("Dynamic degree (VBench)", "share of clips that move"),
    "smoothness_error": ("Smoothness error (proxy)", "0 = perfectly predictable"),
    "sharpness": ("Sharpness (variance of Laplacian)", "higher = more detail"),
    "exposure_mean": ("Mean exposure", "0 black .. 1 white"),
    "clipped_share": ("Clipped pixels", "share"),
    "colourfulness": ("Colourfulness (Hasler-Suesstrunk)", "~45 moderate, ~109 high"),
    "brisque": ("Image quality (BRISQUE)", "lower = better, ~0 .. 100"),
    "frozen_share": ("Frozen", "share of the duration"),
    "black_share": ("Black", "share of the duration"),
    "scene_cuts": ("Scene cuts", "per clip"),
    "si_mean": ("Spatial information (P.910)", "mean"),
    "ti_mean": ("Temporal information (P.910)", "mean"),
}
# The automatic measurements a leaderboard row carries (the model page shows them all).
BOARD_METRICS = ("motion_mean", "flicker", "smoothness_error", "sharpness")


@dataclass(frozen=True)
class Spread:
    """One automatic measurement over a model's clips: its median and interquartile range."""

    clips: int  # clips with a value for this metric
    median: float
    low: float  # 25th percentile
    high: float  # 75th percentile

    def as_list(self) -> list[float]:
        return [round(self.median, 4), round(self.low, 4), round(self.high, 4)]


@dataclass
class Measured:
    model: VideoModel
    jobs_finished: int = 0
    clips: int = 0
    longest_clip_s: float | None = None
    median_duration_s: float | None = None
    resolution: str = ""  # the most common "WxH" of its clips
    fps: float | None = None  # median over its clips
    latency_p50_s: float | None = None  # started (first claim) to finished, succeeded jobs
    latency_p95_s: float | None = None
    queue_wait_p50_s: float | None = None  # ready (queued, or released by a moderator) to started
    review_wait_p50_s: float | None = None  # held jobs: queued to released by a moderator
    failure_rate: float | None = None
    rejection_rate: float | None = None
    cost_per_video_second_usd: float | None = None
    # Sound, from the media stage's measurements of the originals (Clip.audio).
    sound_measured: int = 0  # clips whose sound the media stage measured
    clips_with_audio: int = 0
    audio_share: float | None = None  # of its clips, those whose original has an audio track
    median_loudness_lufs: float | None = None  # integrated, over its audible (not silent) tracks
    audio_problems: int = 0  # clips whose sound was noted (undecodable, short, silent, clipping)
    # The automatic per-clip measurements (docs/metrics.md) over the clips measured so far.
    picture_measured: int = 0  # clips measured (any version), failures included
    picture: dict[str, Spread] = field(default_factory=dict)  # metric key -> spread; absent: no value

    @property
    def picture_rows(self) -> list[dict[str, Any]]:
        """Every metric in docs/metrics.md's order, for templates: key, label, unit, spread (None
        when no clip has a value)."""
        return [
            {
                "key": key,
                "label": METRIC_LABELS[key][0],
                "unit": METRIC_LABELS[key][1],
                "spread": self.picture.get(key),
                "on_board": key in BOARD_METRICS,
            }
            for key in METRIC_KEYS
        ]

    def summary(self) -> dict:
        """The short form a leaderboard row carries (stored in its snapshot)."""
        return {
            "clips": self.clips,
            "resolution": self.resolution,
            "fps": None if self.fps is None else round(self.fps, 2),
            "median_duration_s": None if self.median_duration_s is None else round(self.median_duration_s, 2),
            "median_latency_s": None if self.latency_p50_s is None else round(self.latency_p50_s, 1),
            # metric -> [median, 25th, 75th percentile] over its measured clips
            "picture": {key: self.picture[key].as_list() for key in BOARD_METRICS if key in self.picture},
        }


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    index = (len(ordered) - 1) * q
    low, high = int(index), min(int(index) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def measure_all(models: Iterable[VideoModel]) -> dict[int, Measured]:
    """Measured facts per model id, in two queries whatever the number of models."""
    measured = {model.pk: Measured(model=model) for model in models}
    jobs: dict[int, list[Row]] = {pk: [] for pk in measured}
    for job in GenerationJob.objects.filter(model_id__in=list(measured), state__in=FINISHED).values(
        "model_id", "state", "queued_at", "released_at", "started_at", "finished_at", "cost_usd", "clip__duration_s"
    ):
        jobs[job["model_id"]].append(job)
    clips: dict[int, list[Row]] = {pk: [] for pk in measured}
    for clip in Clip.objects.filter(job__model_id__in=list(measured)).values(
        "job__model_id",
        "duration_s",
        "width",
        "height",
        "fps",
        "has_audio",
        "audio",
        "measurements",
        "measurements_version",
    ):
        clips[clip["job__model_id"]].append(clip)
    for pk, m in measured.items():
        _from_jobs(m, jobs[pk])
        _from_clips(m, clips[pk])
    return measured


def measure(model: VideoModel) -> Measured:
    return measure_all([model])[model.pk]


def _from_jobs(m: Measured, jobs: list[Row]) -> None:
    m.jobs_finished = len(jobs)
    if jobs:
        m.failure_rate = sum(j["state"] == JobState.FAILED for j in jobs) / len(jobs)
        m.rejection_rate = sum(j["state"] == JobState.REJECTED_BY_VENDOR for j in jobs) / len(jobs)
    latencies = [
        (j["finished_at"] - j["started_at"]).total_seconds()
        for j in jobs
        if j["state"] == JobState.SUCCEEDED and j["finished_at"] and j["started_at"]
    ]
    m.latency_p50_s, m.latency_p95_s = percentile(latencies, 0.5), percentile(latencies, 0.95)
    m.queue_wait_p50_s = percentile(
        [
            max((j["started_at"] - (j["released_at"] or j["queued_at"])).total_seconds(), 0.0)
            for j in jobs
            if j["started_at"] and j["queued_at"]
        ],
        0.5,
    )
    m.review_wait_p50_s = percentile(
        [(j["released_at"] - j["queued_at"]).total_seconds() for j in jobs if j["released_at"] and j["queued_at"]], 0.5
    )
    paid = [
        (float(j["cost_usd"]), j["clip__duration_s"])
        for j in jobs
        if j["cost_usd"] is not None and j["clip__duration_s"]
    ]
    if paid:
        m.cost_per_video_second_usd = sum(c for c, _ in paid) / sum(d for _, d in paid)


def _from_clips(m: Measured, clips: list[Row]) -> None:
    m.clips = len(clips)
    if clips:
        m.longest_clip_s = max(c["duration_s"] for c in clips)
        m.median_duration_s = statistics.median(c["duration_s"] for c in clips)
        m.resolution = Counter(f"{c['width']}x{c['height']}" for c in clips).most_common(1)[0][0]
        m.fps = statistics.median(c["fps"] for c in clips)
        _sound(m, clips)
        _picture(m, clips)


def _picture(m: Measured, clips: list[Row]) -> None:
    """Median and interquartile range of each automatic measurement over the measured clips;
    a clip's null (not computable, or a failed measurement) is left out of that metric."""
    measured = [c["measurements"] for c in clips if c["measurements_version"] and isinstance(c["measurements"], dict)]
    m.picture_measured = len(measured)
    for key in METRIC_KEYS:
        values = [float(v) for v in (d.get(key) for d in measured) if isinstance(v, (int, float))]
        if values:
            low, mid, high = (percentile(values, q) for q in (0.25, 0.5, 0.75))
            assert low is not None and mid is not None and high is not None
            m.picture[key] = Spread(clips=len(values), median=mid, low=low, high=high)


def _sound(m: Measured, clips: list[Row]) -> None:
    """Has-audio share, median loudness of the tracks that are not silent, problems noted.
    Clips made before sound was measured (empty Clip.audio) count as not measured."""
    measured = [c for c in clips if isinstance(c["audio"], dict) and c["audio"]]
    if not measured:
        return
    with_audio = [c["audio"] for c in measured if c["has_audio"]]
    m.sound_measured = len(measured)
    m.clips_with_audio = len(with_audio)
    m.audio_share = len(with_audio) / len(measured)
    m.audio_problems = sum(bool(a.get("notes")) for a in with_audio)
    levels = [
        float(a["loudness_lufs"])
        for a in with_audio
        if isinstance(a.get("loudness_lufs"), (int, float))
        and not any(n.get("code") == "silent" for n in a.get("notes") or [])
    ]
    m.median_loudness_lufs = statistics.median(levels) if levels else None
