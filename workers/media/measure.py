"""Automatic per-clip measurements of the picture (docs/metrics.md defines each and names its
source): one ffmpeg pass decodes the clip once, sending a small copy of every frame to numpy /
OpenCV (flicker, optical flow, smoothness, sharpness, exposure, colourfulness) while ffmpeg's own
filters measure the full-size picture (freezedetect, blackdetect, scdet).

The result is a flat dict, metric name -> float, or None where a metric could not be computed
(too few frames for a flow, no scene at all): the shape stored in `Clip.measurements`.
MEASUREMENTS_VERSION names the definitions; change it whenever a number would come out
differently, and stored clips are measured again in the background.
BRISQUE, a no-reference quality score, comes from quality.py on a few sampled frames.
Sound is not measured here: the media stage's `analyse_audio` (Clip.audio) already did it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from .errors import InvalidVideo
from .filtergraph import chain, filter_spec
from .probing import VideoInfo
from .process import run
from .quality import brisque_score
from .tools import DEFAULT_TOOLS, PathLike, Tools, input_args

# Bump when any definition below changes (a stored clip with an older version is re-measured).
# 2: `brisque` added.
MEASUREMENTS_VERSION = 2

# The analysis size: frames are scaled so their short side is this many pixels (aspect kept,
# even sides). VBench's dynamic-degree threshold is stated for a 256 px short side, so its
# threshold applies unscaled, and clips of every resolution are compared at one scale.
ANALYSIS_SHORT_SIDE = 256
# At most this many frames reach numpy (the ffmpeg filters still see the whole clip): 10 s at
# 24 fps; a 16:9 clip's frames at the analysis size take 350 KB each in RGB, so ~80 MiB (and
# ~27 MiB of luma) at most, whatever the clip's length or resolution.
MAX_ANALYSED_FRAMES = 240
# VBench samples frames for dynamic degree at about 8 per second.
DYNAMIC_DEGREE_FPS = 8.0
# BRISQUE costs ~20-30 ms a frame at the analysis size: this many frames, evenly spaced from the
# first analysed frame to the last, whatever the clip's length.
BRISQUE_FRAMES = 5
# Luma at or beyond these (of 255) counts as clipped: crushed shadows / blown highlights.
CLIP_LOW, CLIP_HIGH = 4, 251
# freezedetect: a stretch at least this long with less than this change is frozen.
FREEZE_NOISE_DB = -60
FREEZE_MIN_S = 0.5
# blackdetect: black stretches of at least this long count.
BLACK_MIN_S = 0.1
# scdet: a frame scoring above this (0..100) starts a new scene (ffmpeg's default is 10).
SCENE_THRESHOLD = 10.0

# Every key this module writes, in a stable order (docs/metrics.md documents each).
METRIC_KEYS = (
    "flicker",
    "motion_mean",
    "dynamic_degree",
    "smoothness_error",
    "sharpness",
    "exposure_mean",
    "clipped_share",
    "colourfulness",
    "brisque",
    "frozen_share",
    "black_share",
    "scene_cuts",
    "si_mean",
    "ti_mean",
)

# Keys whose lower value marks the better clip (errors, defects, distortion): the agreement with
# voters counts the lower one as the measurement's preference. The others prefer the higher
# value, by definition (flicker, sharpness) or by convention (motion, loudness: no better way).
LOWER_IS_BETTER = frozenset({"smoothness_error", "clipped_share", "brisque", "frozen_share", "black_share"})

# Measurements of the analysed frames made elsewhere (the optional neural ones, neural.py):
# RGB frames (n, h, w, 3) -> more keys for Clip.measurements.
FrameMetrics = Callable[[np.ndarray], dict[str, float | None]]

_FREEZE_START = re.compile(r"lavfi\.freezedetect\.freeze_start: ([0-9.]+)")
_FREEZE_END = re.compile(r"lavfi\.freezedetect\.freeze_end: ([0-9.]+)")
_BLACK = re.compile(r"black_start:\s*([0-9.]+)\s+black_end:\s*([0-9.]+)")
_SCENE = re.compile(r"lavfi\.scd\.time:")


@dataclass(frozen=True)
class AnalysisSize:
    width: int
    height: int


def analysis_size(width: int, height: int) -> AnalysisSize:
    """The frame size numpy sees: short side ANALYSIS_SHORT_SIDE (never upscaled), even sides."""
    short = min(width, height)
    scale = min(1.0, ANALYSIS_SHORT_SIDE / short)
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return AnalysisSize(w, h)


def measure_argv(path: PathLike, video: VideoInfo, size: AnalysisSize, tools: Tools = DEFAULT_TOOLS) -> list[str]:
    """The one ffmpeg command: small RGB frames to stdout, the filters' findings to stderr."""
    raw = chain(
        filter_spec("trim", end_frame=MAX_ANALYSED_FRAMES),
        filter_spec("scale", size.width, size.height, flags="area"),
        filter_spec("format", "rgb24"),
    )
    detectors = chain(
        filter_spec("freezedetect", n=f"{FREEZE_NOISE_DB}dB", d=FREEZE_MIN_S),
        filter_spec("blackdetect", d=BLACK_MIN_S),
        filter_spec("scdet", threshold=SCENE_THRESHOLD),
        "nullsink",
    )
    graph = f"[0:{video.stream_index}]split=2[a][b];[a]{raw}[raw];[b]{detectors}"
    # -noautorotate: frames keep the stored orientation and the probed width and height, whatever
    # the ffmpeg version does with rotation tags (every metric here ignores a quarter turn). -fps_mode passthrough: each decoded
    # frame is analysed once; the raw muxer would otherwise repeat frames of a variable-rate clip
    # to make a constant rate, and repeats read as freezes and lower the flicker.
    return [
        tools.ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
        "-noautorotate", *input_args(path),
        "-filter_complex", graph, "-map", "[raw]", "-an", "-sn", "-dn",
        "-fps_mode", "passthrough", "-f", "rawvideo", "pipe:1",
    ]  # fmt: skip


def measure_clip(
    path: PathLike, video: VideoInfo, tools: Tools = DEFAULT_TOOLS, *, extra: FrameMetrics | None = None
) -> dict[str, float | None]:
    """Measure `path` (described by `video`, from `probe`/`validate`). Raises FFmpegFailed when
    ffmpeg cannot decode it and InvalidVideo when no frame comes out; a metric that needs more
    than the clip has (a flow needs two frames) is None rather than an error. `extra` gets the
    same analysed frames and adds its keys after METRIC_KEYS."""
    size = analysis_size(video.width, video.height)
    finished = run(measure_argv(path, video, size, tools), timeout=tools.transcode_timeout_s, what="ffmpeg (measure)")
    frame_bytes = size.width * size.height * 3
    count = len(finished.stdout) // frame_bytes
    if count == 0:
        raise InvalidVideo("No frame could be decoded to measure.", code="no_frames")
    frames = np.frombuffer(finished.stdout, dtype=np.uint8, count=count * frame_bytes).reshape(
        count, size.height, size.width, 3
    )
    log = finished.stderr.decode("utf-8", errors="replace")
    duration = video.duration_s if video.duration_s > 0 else count / max(video.fps, 1.0)
    out: dict[str, float | None] = {}
    out.update(picture_measurements(frames, fps=video.fps))
    out.update(detector_measurements(log, duration))
    measured = {key: out.get(key) for key in METRIC_KEYS}
    if extra is not None:
        measured.update(extra(frames))
    return measured


def picture_measurements(frames: np.ndarray, *, fps: float) -> dict[str, float | None]:
    """The numpy/OpenCV half, on RGB frames of shape (n, h, w, 3)."""
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
    out: dict[str, float | None] = {
        "flicker": temporal_flicker(frames),
        "sharpness": float(np.mean([cv2.Laplacian(g, cv2.CV_32F).var() for g in gray])),
        "exposure_mean": float(gray.mean() / 255.0),
        "clipped_share": float(np.mean((gray <= CLIP_LOW) | (gray >= CLIP_HIGH))),
        "colourfulness": float(np.mean([colourfulness(f) for f in frames[:: _step(fps, DYNAMIC_DEGREE_FPS)]])),
        "brisque": mean_brisque(frames),
    }
    out.update(spatial_temporal_information(gray))
    out.update(motion_measurements(gray, fps=fps))
    return out


def spatial_temporal_information(gray: np.ndarray) -> dict[str, float | None]:
    """ITU-T P.910 SI and TI on luma at the analysis size, averaged over time (P.910 reports the
    maximum; the mean is steadier for comparing clips): SI(t) = std over space of the Sobel
    magnitude of frame t (border pixels left out, as ffmpeg's ``siti`` does), TI(t) = std over
    space of frame t - frame t-1. ffmpeg's ``siti`` filter computes the same at the full size,
    but costs ~5 s of CPU for 5 s of 720p; the unit tests check the two agree."""
    si = []
    for frame in gray:  # frame by frame: a float copy of the whole clip would be 4x its luma
        gx = cv2.Sobel(frame, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(frame, cv2.CV_32F, 0, 1, ksize=3)
        si.append(float(cv2.magnitude(gx, gy)[1:-1, 1:-1].std()))
    ti = [float(cv2.subtract(b, a, dtype=cv2.CV_16S).std()) for a, b in zip(gray[:-1], gray[1:])]
    return {"si_mean": float(np.mean(si)), "ti_mean": float(np.mean(ti)) if ti else None}


def mean_brisque(frames: np.ndarray) -> float | None:
    """BRISQUE (quality.py; lower = better) averaged over BRISQUE_FRAMES evenly spaced frames
    at the analysis size; None when no sampled frame has one (flat pictures)."""
    picks = np.unique(np.linspace(0, len(frames) - 1, num=min(BRISQUE_FRAMES, len(frames))).round().astype(int))
    scores = [s for s in (brisque_score(frames[i]) for i in picks) if s is not None]
    return float(np.mean(scores)) if scores else None


def temporal_flicker(frames: np.ndarray) -> float | None:
    """VBench's temporal flickering: 1 - mean |f(t+1) - f(t)| / 255 over consecutive frames
    and all channels (1 = no change at all)."""
    if len(frames) < 2:
        return None
    diffs = [cv2.absdiff(a, b).mean() for a, b in zip(frames[:-1], frames[1:])]
    return float(1.0 - np.mean(diffs) / 255.0)


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003): sqrt(sd_rg^2 + sd_yb^2) + 0.3 sqrt(mean_rg^2 + mean_yb^2),
    rg = R - G, yb = (R + G) / 2 - B."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean()))


def _step(fps: float, target_fps: float) -> int:
    return max(1, int(round(fps / target_fps))) if fps > 0 else 1


def _flow_engine() -> Any:
    # Typed Any: OpenCV's stubs miss the factory and refuse calc(a, b, None), its documented form.
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)  # type: ignore[attr-defined]


def _magnitude(flow: np.ndarray) -> np.ndarray:
    mag: np.ndarray = cv2.magnitude(flow[..., 0], flow[..., 1])
    return mag


def motion_measurements(gray: np.ndarray, *, fps: float) -> dict[str, float | None]:
    """Optical flow (OpenCV DIS, preset FAST) on luma frames at the analysis size:

    - smoothness_error: drop every odd frame, rebuild it from its neighbours by warping both
      half-way along the flow between them, and take mean |rebuilt - real| / 255 (0 = motion
      exactly linear, as the proxy assumes);
    - motion_mean: the mean flow magnitude in px per frame, from those same flows (frames t and
      t+2, halved), so measuring motion costs no flow of its own;
    - dynamic_degree: VBench's rule on pairs ~1/8 s apart: a pair moves when the mean of its
      top 5% magnitudes exceeds 6 px * short side / 256; the clip is dynamic (1.0) when more
      than round(4 * n / 16) of the pairs (the last two left out, as VBench does) move.
    """
    out: dict[str, float | None] = {"motion_mean": None, "dynamic_degree": None, "smoothness_error": None}
    if len(gray) < 2:
        return out
    dis = _flow_engine()
    if len(gray) == 2:
        out["motion_mean"] = float(_magnitude(dis.calc(gray[0], gray[1], None)).mean())
    else:
        out["motion_mean"], out["smoothness_error"] = motion_and_smoothness(gray, dis=dis)
    out["dynamic_degree"] = dynamic_degree(gray, fps=fps, dis=dis)
    return out


def dynamic_degree(gray: np.ndarray, *, fps: float, dis: Any = None) -> float | None:
    dis = dis or _flow_engine()
    sampled = gray[:: _step(fps, DYNAMIC_DEGREE_FPS)]
    if len(sampled) < 2:
        return None
    threshold = 6.0 * (min(gray.shape[1:]) / 256.0)
    count_needed = round(4 * (len(sampled) / 16.0))
    scores = []
    for a, b in zip(sampled[:-1], sampled[1:]):
        mag = _magnitude(dis.calc(a, b, None)).ravel()
        top = max(1, int(mag.size * 0.05))
        scores.append(float(np.partition(mag, mag.size - top)[-top:].mean()))
    moving = sum(1 for s in scores[:-2] if s > threshold)
    return 1.0 if moving > count_needed else 0.0


def motion_and_smoothness(gray: np.ndarray, *, dis: Any = None) -> tuple[float, float]:
    """(motion_mean, smoothness_error) over the triples (t, t+1, t+2), t even; needs 3 frames."""
    dis = dis or _flow_engine()
    h, w = gray.shape[1:]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    errors, speeds = [], []
    for i in range(0, len(gray) - 2, 2):
        before, real, after = gray[i], gray[i + 1], gray[i + 2]
        half = dis.calc(before, after, None) * 0.5
        speeds.append(float(_magnitude(half).mean()))
        # Linear motion: the middle frame at x came from before(x - F/2) and goes to after(x + F/2).
        from_before = cv2.remap(
            before, grid_x - half[..., 0], grid_y - half[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        from_after = cv2.remap(
            after, grid_x + half[..., 0], grid_y + half[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        rebuilt = cv2.addWeighted(from_before, 0.5, from_after, 0.5, 0)
        errors.append(cv2.absdiff(rebuilt, real).mean() / 255.0)
    return float(np.mean(speeds)), float(np.mean(errors))


def detector_measurements(log: str, duration_s: float) -> dict[str, float | None]:
    """The ffmpeg-filter half, parsed from the measuring command's stderr."""
    if duration_s <= 0:
        return {"frozen_share": None, "black_share": None, "scene_cuts": None}
    starts = [float(x) for x in _FREEZE_START.findall(log)]
    ends = [float(x) for x in _FREEZE_END.findall(log)]
    # A freeze still running at the end of the clip has a start but no end.
    ends += [duration_s] * (len(starts) - len(ends))
    frozen = sum(max(0.0, min(e, duration_s) - s) for s, e in zip(starts, ends))
    black = sum(max(0.0, min(float(e), duration_s) - float(s)) for s, e in _BLACK.findall(log))
    return {
        "frozen_share": min(1.0, frozen / duration_s),
        "black_share": min(1.0, black / duration_s),
        "scene_cuts": float(len(_SCENE.findall(log))),
    }
