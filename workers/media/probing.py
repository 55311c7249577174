"""Probing: what a video file is (`probe` -> `VideoInfo`) and whether we accept it (`validate`
against `MediaLimits`). ffprobe's JSON is parsed defensively (types, finiteness, ranges) and
its refusals become user-fit `InvalidVideo` errors."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import InvalidVideo
from .mp4 import looks_like_isobmff
from .process import run, stderr_tail
from .tools import DEFAULT_TOOLS, PathLike, Tools, ffprobe_args, file_url, regular_file_size


@dataclass(frozen=True)
class MediaLimits:
    max_bytes: int = 500 * 1024 * 1024
    min_duration_s: float = 0.2
    max_duration_s: float = 120.0
    min_side: int = 16
    max_width: int = 4096
    max_height: int = 4096


@dataclass(frozen=True)
class VideoInfo:
    duration_s: float  # of the video stream (container duration when the stream has none)
    width: int
    height: int
    fps: float
    codec: str
    pix_fmt: str
    bytes: int
    container: str  # ffprobe format_name
    has_audio: bool
    frame_count: int | None  # from the container index (nb_frames); None when unknown (mkv)
    # Absolute index of the video stream described above (ffmpeg's "0:<index>").
    stream_index: int = 0


# Defence in depth: the probed format_name must be one of these.
_ACCEPTED_FORMAT_NAMES = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"})

_MAX_FPS = 1000.0


def probe_argv(path: PathLike, tools: Tools = DEFAULT_TOOLS) -> list[str]:
    """The ffprobe command `probe` runs (JSON on stdout)."""
    entries = (
        "format=format_name,duration"
        ":stream=index,codec_type,codec_name,width,height,pix_fmt,"
        "avg_frame_rate,r_frame_rate,duration,nb_frames"
        ":stream_disposition=attached_pic"
    )
    return [
        *ffprobe_args(tools),
        "-show_entries", entries,
        "-of", "json",
        file_url(path),
    ]  # fmt: skip


_REJECTED_DEMUXER = re.compile(r"\[([A-Za-z0-9_,]{1,64}) @ [^\]]*\] Format not on whitelist")
_IMAGE_DEMUXERS = frozenset({"image2", "gif", "apng", "webp_pipe", "svg_pipe"})


def probe_failure(path: PathLike, stderr: bytes) -> InvalidVideo:
    """Turn ffprobe's refusal into a user-fit InvalidVideo (stderr only goes to .detail)."""
    text = stderr.decode("utf-8", errors="replace")
    detail = stderr_tail(text)
    m = _REJECTED_DEMUXER.search(text)
    if m:
        name = m.group(1)
        if name in _IMAGE_DEMUXERS or name.endswith("_pipe"):
            return InvalidVideo(
                "This file is an image, not a video. Upload an MP4, MOV, MKV or WebM video.",
                code="not_a_video",
                detail=detail,
            )
        return InvalidVideo(
            f"Unsupported file format ({name}). Upload an MP4, MOV, MKV or WebM video.",
            code="unsupported_container",
            detail=detail,
        )
    if "moov atom not found" in text and looks_like_isobmff(path):
        return InvalidVideo(
            "The MP4/MOV file is incomplete (its index is missing); it was probably truncated "
            "during download or upload.",
            code="decode_failed",
            detail=detail,
        )
    return InvalidVideo(
        "This file could not be read as a video. Upload an MP4, MOV, MKV or WebM video.",
        code="not_a_video",
        detail=detail,
    )


def _bad(message: str, code: str = "decode_failed") -> InvalidVideo:
    return InvalidVideo(message, code=code)


def _as_float(value: Any) -> float | None:
    """A finite float from ffprobe's string/number field, or None ("N/A", garbage, nan)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        f = float(value)
    elif isinstance(value, str) and len(value) <= 64:
        try:
            f = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return f if math.isfinite(f) else None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,18}\s*", value):
        return int(value)
    return None


def _parse_rate(value: Any) -> float | None:
    """ "24/1" -> 24.0, "30000/1001" -> 29.97; "0/0", "N/A", garbage -> None."""
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"\s*(\d{1,12})\s*/\s*(\d{1,12})\s*", value)
    if m:
        num, den = int(m.group(1)), int(m.group(2))
        rate = num / den if den else 0.0
    else:
        f = _as_float(value)
        rate = f if f is not None else 0.0
    return rate if 0.0 < rate <= _MAX_FPS else None


def _info_from_probe(data: Any, size: int) -> VideoInfo:
    if not isinstance(data, dict):
        raise _bad("The video's description could not be read.")
    fmt = data.get("format")
    streams = data.get("streams")
    if not isinstance(fmt, dict) or not isinstance(streams, list):
        raise _bad("The video's description could not be read.")
    container = fmt.get("format_name")
    if container not in _ACCEPTED_FORMAT_NAMES:
        raise _bad(
            "Unsupported file format. Upload an MP4, MOV, MKV or WebM video.",
            code="unsupported_container",
        )
    streams = [s for s in streams if isinstance(s, dict)]
    has_audio = any(s.get("codec_type") == "audio" for s in streams)

    def is_picture(s: dict) -> bool:
        disp = s.get("disposition")
        return isinstance(disp, dict) and disp.get("attached_pic") == 1

    videos = [s for s in streams if s.get("codec_type") == "video" and not is_picture(s)]
    if not videos:
        what = "an audio file" if has_audio else "a file"
        raise _bad(f"This is {what} without any video track.", code="no_video_stream")
    v = videos[0]

    index = _as_int(v.get("index"))
    codec = v.get("codec_name")
    pix_fmt = v.get("pix_fmt")
    width, height = _as_int(v.get("width")), _as_int(v.get("height"))
    if index is None:
        raise _bad("The video track could not be read.")
    if not isinstance(codec, str) or not re.fullmatch(r"[A-Za-z0-9_]{1,32}", codec):
        raise _bad("The video uses an unknown or unsupported codec.", code="unsupported_codec")
    if not width or not height or width <= 0 or height <= 0:
        raise _bad("The video's dimensions could not be determined.")
    if not isinstance(pix_fmt, str) or not re.fullmatch(r"[A-Za-z0-9_]{1,32}", pix_fmt):
        raise _bad("The video's pixel format could not be determined; the file may be damaged.")

    duration = _as_float(v.get("duration"))
    if duration is None or duration <= 0:
        duration = _as_float(fmt.get("duration"))
    if duration is None or duration <= 0:
        raise _bad("The video has no duration; the file may be damaged or contain a single image.")

    frame_count = _as_int(v.get("nb_frames"))
    fps = _parse_rate(v.get("avg_frame_rate")) or _parse_rate(v.get("r_frame_rate"))
    if fps is None and frame_count:
        fps = frame_count / duration
        fps = fps if 0.0 < fps <= _MAX_FPS else None
    if fps is None:
        raise _bad("The video's frame rate could not be determined.")

    return VideoInfo(
        duration_s=duration,
        width=width,
        height=height,
        fps=fps,
        codec=codec,
        pix_fmt=pix_fmt,
        bytes=size,
        container=container,
        has_audio=has_audio,
        frame_count=frame_count,
        stream_index=index,
    )


def probe(path: PathLike, tools: Tools = DEFAULT_TOOLS) -> VideoInfo:
    """Describe a video file. Raises InvalidVideo / FFmpegUnavailable / FFmpegFailed (timeout)."""
    size = regular_file_size(path)
    proc = run(probe_argv(path, tools), timeout=tools.probe_timeout_s, what="ffprobe", check=False)
    if proc.returncode != 0:
        raise probe_failure(path, proc.stderr)
    try:
        data = json.loads(proc.stdout.decode("utf-8", errors="replace"))
    except ValueError as exc:
        raise _bad("The video's description could not be read.") from exc
    return _info_from_probe(data, size)


def validate(path: PathLike, limits: MediaLimits = MediaLimits(), tools: Tools = DEFAULT_TOOLS) -> VideoInfo:
    """Size check (by os.stat, before running anything), then probe, then the limits."""
    size = regular_file_size(path)
    if size > limits.max_bytes:
        raise InvalidVideo(f"The file is {_mib(size)}; the maximum is {_mib(limits.max_bytes)}.", code="too_large")
    info = probe(path, tools)
    if info.duration_s < limits.min_duration_s:
        raise InvalidVideo(
            f"The video lasts {info.duration_s:.2f} s; the minimum is {limits.min_duration_s:g} s.",
            code="too_short",
        )
    if info.duration_s > limits.max_duration_s:
        raise InvalidVideo(
            f"The video lasts {info.duration_s:.1f} s; the maximum is {limits.max_duration_s:g} s.",
            code="too_long",
        )
    if info.width > limits.max_width or info.height > limits.max_height:
        raise InvalidVideo(
            f"The video is {info.width}x{info.height}; the maximum is {limits.max_width}x{limits.max_height}.",
            code="resolution_too_large",
        )
    if min(info.width, info.height) < limits.min_side:
        raise InvalidVideo(
            f"The video is {info.width}x{info.height}; each side must be at least {limits.min_side} pixels.",
            code="resolution_too_small",
        )
    return info


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB" if n >= 1024 * 1024 else f"{n} bytes"
