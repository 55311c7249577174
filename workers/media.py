"""Every ffmpeg / ffprobe call of the project lives here.

No Django: callers pass configuration as `Tools` (which binaries, which timeouts) and
`MediaLimits` (what we accept). All inputs are treated as untrusted:

* every subprocess gets an argument list (never a shell string), a timeout (the child is
  killed when it expires) and no stdin;
* input paths are made absolute and prefixed with ``file:`` so a crafted name can never be
  read as another protocol or as an option;
* demuxers are restricted with AVFormat's ``format_whitelist`` to the containers we accept
  (MP4/MOV family, Matroska/WebM) and protocols with ``protocol_whitelist=file``, so a
  playlist (HLS), a concat script, an image or an AVI is refused before ffmpeg opens anything
  else; the probed ``format_name`` is checked against an allow-list once more;
* ffprobe's JSON is parsed defensively (types, finiteness, ranges).

Errors form a small taxonomy, each with a short machine-readable ``code``:
`InvalidVideo` (the input is not acceptable; the message is fit to show a user),
`FFmpegUnavailable` (binary missing / not executable) and `FFmpegFailed` (a processing step
failed on a valid input, or timed out). ``detail`` carries diagnostics (ffmpeg's stderr
tail) for logs; it is never meant for end users.

Graphs are built with ffmpeg-python and compiled to argv by the ``*_argv()`` builders, which
the benchmark reuses to run the exact same commands directly.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import os
import re
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import ffmpeg  # ffmpeg-python: builds argv only, we run it ourselves

from workers.files import atomic_output

PathLike = Union[str, "os.PathLike[str]"]

__all__ = [
    "MediaError",
    "InvalidVideo",
    "FFmpegUnavailable",
    "FFmpegFailed",
    "Tools",
    "MediaLimits",
    "VideoInfo",
    "check_tools",
    "probe",
    "validate",
    "make_web_rendition",
    "make_poster",
    "sha256_file",
    "probe_argv",
    "web_rendition_argv",
    "poster_argv",
    "tagged_copy_argv",
    "make_tagged_copy",
    "pad_mp4_to_multiple",
    "SideBySideLayout",
    "side_by_side_argv",
    "make_side_by_side",
    "ACCEPTED_DEMUXERS",
]


# --------------------------------------------------------------------------- errors


class MediaError(Exception):
    """Base of the taxonomy. `code` is a short machine-readable reason, str(e) the message."""

    code = "media_error"

    def __init__(self, message: str, *, code: str | None = None, detail: str | None = None):
        super().__init__(message)
        if code:
            self.code = code
        # Diagnostics for logs (stderr tail, ...). Never shown to users.
        self.detail = detail

    @property
    def message(self) -> str:
        return str(self)


class InvalidVideo(MediaError):
    """The input is not an acceptable video. The message is fit to show a user."""

    code = "not_a_video"


class FFmpegUnavailable(MediaError):
    """ffmpeg / ffprobe is missing, not executable, or lacks what we need."""

    code = "ffmpeg_missing"


class FFmpegFailed(MediaError):
    """A processing step failed (code ``ffmpeg_failed``) or timed out (``ffmpeg_timeout``)."""

    code = "ffmpeg_failed"


# --------------------------------------------------------------------------- config / results


@dataclass(frozen=True)
class Tools:
    """Which binaries and timeouts to use."""

    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"
    probe_timeout_s: float = 20
    transcode_timeout_s: float = 300


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


# Demuxer names (as ffmpeg spells them) that AVFormat may pick for an input. `format_whitelist`
# matches any comma-separated element, so this admits exactly the "mov,mp4,m4a,3gp,3g2,mj2" and
# "matroska,webm" demuxers and refuses everything else (hls, concat, image2, png_pipe, avi, ...).
ACCEPTED_DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"
# Defence in depth: the probed format_name must be one of these.
_ACCEPTED_FORMAT_NAMES = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"})

_INPUT_OPTS = {"format_whitelist": ACCEPTED_DEMUXERS, "protocol_whitelist": "file"}
_GLOBAL_ARGS = ("-hide_banner", "-nostdin", "-loglevel", "error")

# A rendition shorter than this fraction of its source means the source could not be decoded
# to the end (truncated / corrupt). ffmpeg conceals such damage and exits 0, so this is the
# check that catches it. A file cut in half decodes to ~50% of its duration, hence 0.9, not 0.5.
_MIN_RENDITION_RATIO = 0.9
_MAX_FPS = 1000.0
_STDERR_TAIL_LINES = 12
_INSTALL_HINT = "Install FFmpeg (Debian/Ubuntu: apt-get install ffmpeg) or set the path to the binary."

# The x264 SEI "options" user-data string leaks the encoder and its settings: drop all SEI NAL
# units (type 6) from the H.264 bitstream.
_STRIP_SEI_BSF = "filter_units=remove_types=6"
# libavformat writes the stream's "encoder" tag ("Lavc libx264") into the MP4 sample entry's
# compressorname; pin it to the neutral name ISO/IEC 14496-15 recommends for AVC.
_COMPRESSOR_NAME = "AVC Coding"


# --------------------------------------------------------------------------- subprocess


def _stderr_tail(stderr: bytes | str | None, lines: int = _STDERR_TAIL_LINES) -> str:
    if not stderr:
        return ""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", errors="replace")
    tail = [ln[:300] for ln in stderr.strip().splitlines()[-lines:]]
    return "\n".join(tail)


def _run(argv: list[str], timeout: float, what: str, *, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run argv (no shell, no stdin) with a timeout; map failures onto the taxonomy.

    Missing / non-executable binary -> FFmpegUnavailable; timeout -> FFmpegFailed
    (code "ffmpeg_timeout"; subprocess.run kills the child); non-zero exit ->
    FFmpegFailed with the stderr tail, unless check=False.
    """
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
            shell=False,
        )
    except FileNotFoundError as exc:
        raise FFmpegUnavailable(
            f"{argv[0]!r} was not found (needed for {what}). {_INSTALL_HINT}", detail=str(exc)
        ) from exc
    except PermissionError as exc:
        raise FFmpegUnavailable(
            f"{argv[0]!r} is not executable (needed for {what}). {_INSTALL_HINT}", detail=str(exc)
        ) from exc
    except OSError as exc:
        if exc.errno == errno.ENOEXEC:  # not a program this system can run
            raise FFmpegUnavailable(
                f"{argv[0]!r} cannot be executed (needed for {what}). {_INSTALL_HINT}",
                detail=str(exc),
            ) from exc
        raise
    except subprocess.TimeoutExpired as exc:
        raise FFmpegFailed(
            f"{what} timed out after {timeout:g} s and was stopped."
            + (f"\n{_stderr_tail(exc.stderr)}" if exc.stderr else ""),
            code="ffmpeg_timeout",
            detail=_stderr_tail(exc.stderr),
        ) from exc
    if check and proc.returncode != 0:
        tail = _stderr_tail(proc.stderr)
        raise FFmpegFailed(f"{what} failed (exit status {proc.returncode}):\n{tail}", detail=tail)
    return proc


# --------------------------------------------------------------------------- argv builders


def _abs(path: PathLike) -> str:
    p = os.fspath(path)
    if not isinstance(p, str):
        raise TypeError("paths must be str or os.PathLike[str]")
    return os.path.abspath(p)


def _url(path: PathLike) -> str:
    # "file:" + absolute path: never parsed as another protocol ("concat:", "http:") nor as
    # an option ("-i"), whatever the file is called.
    return "file:" + _abs(path)


def _compile(out: Any, tools: Tools) -> list[str]:
    argv = out.compile(cmd=tools.ffmpeg, overwrite_output=True)
    return [argv[0], *_GLOBAL_ARGS, *argv[1:]]  # global options first, for readability


def probe_argv(path: PathLike, tools: Tools = Tools()) -> list[str]:
    """The ffprobe command `probe` runs (JSON on stdout)."""
    entries = (
        "format=format_name,duration"
        ":stream=index,codec_type,codec_name,width,height,pix_fmt,"
        "avg_frame_rate,r_frame_rate,duration,nb_frames"
        ":stream_disposition=attached_pic"
    )
    return [
        tools.ffprobe,
        "-hide_banner",
        "-v", "error",
        "-protocol_whitelist", "file",
        "-format_whitelist", ACCEPTED_DEMUXERS,
        "-show_entries", entries,
        "-of", "json",
        _url(path),
    ]  # fmt: skip


def _even_expr(side: str, max_height: int) -> str:
    # Scale so height <= max_height keeping the display aspect (sar folded into width), then
    # round each side down to an even number (yuv420p / H.264 need even dimensions), min 2.
    base = {"w": "iw*sar", "h": "ih"}[side]
    return f"max(2,trunc({base}*min(1,{max_height}/ih)/2)*2)"


def web_rendition_argv(
    src: PathLike,
    dest: PathLike,
    *,
    fps: float,
    stream_index: int = 0,
    max_height: int = 1080,
    tools: Tools = Tools(),
) -> list[str]:
    """The ffmpeg command that writes the blind web rendition of `src` to `dest` (MP4).

    `fps` is the source's frame rate (from `probe`): an fps filter caps it at 30 only when
    the source is faster.
    """
    if max_height < 2:
        raise ValueError("max_height must be >= 2")
    inp = ffmpeg.input(_url(src), **_INPUT_OPTS)
    v = inp[str(int(stream_index))]
    v = v.filter("scale", w=_even_expr("w", max_height), h=_even_expr("h", max_height))
    v = v.filter("setsar", 1)
    if fps > 30.0 + 1e-3:
        v = v.filter("fps", fps=30)
    out = ffmpeg.output(
        v,
        _url(dest),
        an=None,
        sn=None,
        dn=None,
        vcodec="libx264",
        preset="veryfast",
        crf=23,
        pix_fmt="yuv420p",
        movflags="+faststart",
        map_metadata=-1,
        map_chapters=-1,
        fflags="+bitexact",
        f="mp4",
        **{
            "flags:v": "+bitexact",
            "bsf:v": _STRIP_SEI_BSF,
            "metadata:s:v:0": f"encoder={_COMPRESSOR_NAME}",
        },
    )
    return _compile(out, tools)


def poster_argv(src: PathLike, *, at_s: float, stream_index: int = 0, tools: Tools = Tools()) -> list[str]:
    """The ffmpeg command that writes one RGB PNG frame at `at_s` to stdout."""
    inp = ffmpeg.input(_url(src), ss=f"{max(0.0, at_s):.6f}", **_INPUT_OPTS)
    v = inp[str(int(stream_index))]
    # Square pixels, so the poster keeps the display aspect.
    v = v.filter("scale", w="max(1,round(iw*sar))", h="ih").filter("setsar", 1)
    out = ffmpeg.output(
        v, "pipe:1", f="image2pipe", vcodec="png", pix_fmt="rgb24", an=None, sn=None,
        **{"frames:v": 1},
    )  # fmt: skip
    return _compile(out, tools)


# --------------------------------------------------------------------------- tools


def check_tools(tools: Tools = Tools()) -> None:
    """Raise FFmpegUnavailable unless both binaries run and ffmpeg has libx264."""
    timeout = tools.probe_timeout_s
    for binary in (tools.ffmpeg, tools.ffprobe):
        proc = _run([binary, "-hide_banner", "-version"], timeout, f"{binary} -version", check=False)
        if proc.returncode != 0 or not proc.stdout:
            raise FFmpegUnavailable(
                f"{binary!r} does not run properly (exit status {proc.returncode}). {_INSTALL_HINT}",
                detail=_stderr_tail(proc.stderr),
            )
    proc = _run([tools.ffmpeg, "-hide_banner", "-encoders"], timeout, "ffmpeg -encoders", check=False)
    if not re.search(rb"\slibx264\s", proc.stdout or b""):
        raise FFmpegUnavailable(
            f"{tools.ffmpeg!r} was built without the libx264 encoder. "
            "Install a build with it (Debian/Ubuntu: apt-get install ffmpeg)."
        )


# --------------------------------------------------------------------------- probing


def _regular_file_size(path: PathLike) -> int:
    """Size of `path`, refusing anything that is not a regular file (FIFO, device, dir)."""
    st = os.stat(_abs(path))  # FileNotFoundError propagates: a missing file is a caller bug
    if not stat.S_ISREG(st.st_mode):
        raise InvalidVideo("This is not a regular file, so it cannot be a video.", code="not_a_video")
    if st.st_size == 0:
        raise InvalidVideo("The file is empty.", code="empty_file")
    return st.st_size


_REJECTED_DEMUXER = re.compile(r"\[([A-Za-z0-9_,]{1,64}) @ [^\]]*\] Format not on whitelist")
_IMAGE_DEMUXERS = frozenset({"image2", "gif", "apng", "webp_pipe", "svg_pipe"})


# Top-level box types an MP4/MOV file starts with: tells a truncated MP4 from junk that
# ffmpeg tried as MP4 only because of its name.
_ISOBMFF_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid"})


def _looks_like_isobmff(path: PathLike) -> bool:
    with open(_abs(path), "rb") as f:
        head = f.read(8)
    return len(head) == 8 and head[4:8] in _ISOBMFF_FIRST_BOXES


def _probe_failure(path: PathLike, stderr: bytes) -> InvalidVideo:
    """Turn ffprobe's refusal into a user-fit InvalidVideo (stderr only goes to .detail)."""
    text = stderr.decode("utf-8", errors="replace")
    detail = _stderr_tail(text)
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
    if "moov atom not found" in text and _looks_like_isobmff(path):
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


def probe(path: PathLike, tools: Tools = Tools()) -> VideoInfo:
    """Describe a video file. Raises InvalidVideo / FFmpegUnavailable / FFmpegFailed (timeout)."""
    size = _regular_file_size(path)
    proc = _run(probe_argv(path, tools), tools.probe_timeout_s, "ffprobe", check=False)
    if proc.returncode != 0:
        raise _probe_failure(path, proc.stderr)
    try:
        data = json.loads(proc.stdout.decode("utf-8", errors="replace"))
    except ValueError as exc:
        raise _bad("The video's description could not be read.") from exc
    return _info_from_probe(data, size)


def validate(path: PathLike, limits: MediaLimits = MediaLimits(), tools: Tools = Tools()) -> VideoInfo:
    """Size check (by os.stat, before running anything), then probe, then the limits."""
    size = _regular_file_size(path)
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


# --------------------------------------------------------------------------- outputs


def _ffmpeg_failure(src: PathLike, what: str, proc: subprocess.CompletedProcess[bytes]) -> MediaError:
    """Non-zero exit of a processing step: the input's fault (InvalidVideo) when ffmpeg says
    so in a way we recognise, FFmpegFailed with the stderr tail otherwise."""
    text = proc.stderr.decode("utf-8", errors="replace")
    tail = _stderr_tail(text)
    if "Format not on whitelist" in text or "moov atom not found" in text:
        return _probe_failure(src, proc.stderr)
    if re.search(r"Invalid data found when processing input|Error while decoding|corrupt input packet", text):
        return InvalidVideo("The video could not be decoded; the file is damaged.", code="decode_failed", detail=tail)
    return FFmpegFailed(f"{what} failed (exit status {proc.returncode}):\n{tail}", detail=tail)


def make_web_rendition(
    src: PathLike,
    dest: PathLike,
    *,
    tools: Tools = Tools(),
    max_height: int = 1080,
    source: VideoInfo | None = None,
) -> VideoInfo:
    """Write the blind web rendition of `src` to `dest` and return its VideoInfo.

    H.264 (libx264, veryfast, crf 23), yuv420p, even dimensions with height <= max_height,
    fps capped at 30, no audio, +faststart, and nothing that identifies the source or the
    encoder: container/stream metadata and chapters dropped, bitexact muxing, x264's SEI
    options string removed. Written to a temporary name next to `dest`, then os.replace()d;
    on any failure nothing is left behind.

    `source` may pass the VideoInfo that `validate`/`probe` returned for `src` to skip
    probing it again. Raises InvalidVideo ("decode_failed" when `src` cannot be decoded to the
    end), FFmpegFailed, FFmpegUnavailable.
    """
    src_info = source if source is not None else probe(src, tools)
    with atomic_output(dest) as tmp:
        argv = web_rendition_argv(
            src,
            tmp,
            fps=src_info.fps,
            stream_index=src_info.stream_index,
            max_height=max_height,
            tools=tools,
        )
        what = "ffmpeg (web rendition)"
        proc = _run(argv, tools.transcode_timeout_s, what, check=False)
        if proc.returncode != 0:
            raise _ffmpeg_failure(src, what, proc)
        try:
            out = probe(tmp, tools)
        except InvalidVideo as exc:
            raise InvalidVideo(
                "The video could not be decoded (no frames came out); the file is damaged.",
                code="decode_failed",
                detail=_stderr_tail(proc.stderr) or exc.detail,
            ) from exc
        if not out.frame_count or out.duration_s < _MIN_RENDITION_RATIO * src_info.duration_s:
            raise InvalidVideo(
                f"Only {out.duration_s:.2f} s of the video's {src_info.duration_s:.2f} s could be "
                "decoded; the file is truncated or damaged.",
                code="decode_failed",
                detail=_stderr_tail(proc.stderr),
            )
    return out


def make_poster(
    src: PathLike,
    dest: PathLike,
    *,
    at_s: float,
    width: int = 640,
    tools: Tools = Tools(),
    source: VideoInfo | None = None,
) -> tuple[int, int]:
    """Write a JPEG (quality 85, no EXIF) of the frame at min(at_s, duration/2), `width`
    pixels wide, to `dest`. Returns (width, height). `source` as for make_web_rendition."""
    from PIL import Image  # local: only the poster step needs Pillow

    if width < 1:
        raise ValueError("width must be >= 1")
    info = source if source is not None else probe(src, tools)
    t = at_s if isinstance(at_s, (int, float)) and math.isfinite(at_s) else 0.0
    t = max(0.0, min(float(t), info.duration_s / 2))
    argv = poster_argv(src, at_s=t, stream_index=info.stream_index, tools=tools)
    what = "ffmpeg (poster frame)"
    proc = _run(argv, tools.transcode_timeout_s, what, check=False)
    if proc.returncode != 0:
        raise _ffmpeg_failure(src, what, proc)
    if not proc.stdout:
        raise InvalidVideo(
            "No frame could be decoded for the poster; the file is damaged.",
            code="decode_failed",
            detail=_stderr_tail(proc.stderr),
        )
    try:
        with Image.open(io.BytesIO(proc.stdout), formats=["PNG"]) as im:
            im.load()
            frame = im.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise FFmpegFailed("ffmpeg (poster frame) produced an unreadable image.", detail=str(exc)) from exc
    w, h = frame.size
    size = (width, max(1, round(h * width / w)))
    poster = frame.resize(size, Image.Resampling.LANCZOS)
    poster.info = {}  # carry nothing over (icc profile, comments): just pixels

    with atomic_output(dest) as tmp, open(tmp, "xb") as f:
        poster.save(f, format="JPEG", quality=85)
    return size


def sha256_file(path: PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    buf = bytearray(1024 * 1024)
    view = memoryview(buf)
    with open(_abs(path), "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def pad_mp4_to_multiple(path: PathLike, multiple: int) -> int:
    """Append a top-level `free` box so the file's size is a multiple of `multiple` bytes.

    Players skip `free` boxes, so the video is unchanged; what changes is that file sizes,
    which differ by model (resolution, grain, frame rate), no longer tell a blind voter which
    model made a clip beyond the size bucket. Returns the new size."""
    size = _regular_file_size(path)
    if multiple <= 0 or size % multiple == 0:
        return size
    padding = multiple - size % multiple
    while padding < 8:  # a box header needs 8 bytes
        padding += multiple
    with open(path, "ab") as fh:
        fh.write(padding.to_bytes(4, "big") + b"free")
        fh.write(bytes(padding - 8))
    return size + padding


# --------------------------------------------------------------------------- provenance copies

_MUXER_BY_SUFFIX = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}


def tagged_copy_argv(src: PathLike, dest: PathLike, *, comment: str, muxer: str, tools: Tools = Tools()) -> list[str]:
    """Stream copy (no re-encode) of `src` with its own metadata kept and `comment` set."""
    return [
        tools.ffmpeg,
        *_GLOBAL_ARGS,
        "-format_whitelist",
        ACCEPTED_DEMUXERS,
        "-protocol_whitelist",
        "file",
        "-i",
        _url(src),
        "-map",
        "0:v",
        "-map",
        "0:a?",
        "-c",
        "copy",
        "-map_metadata",
        "0",
        "-metadata",
        f"comment={comment}",
        "-f",
        muxer,
        "-y",
        _url(dest),
    ]


def make_tagged_copy(src: PathLike, dest: PathLike, *, comment: str, tools: Tools = Tools()) -> Path:
    """Write a copy of `src` (the original as received, which is never modified) to `dest`
    carrying `comment` (a provenance record) in its container metadata. The muxer follows
    `src`'s suffix. Raises FFmpegFailed, FFmpegUnavailable."""
    muxer = _MUXER_BY_SUFFIX.get(Path(_abs(src)).suffix.lower(), "mp4")
    with atomic_output(dest) as tmp:
        _run(
            tagged_copy_argv(src, tmp, comment=comment, muxer=muxer, tools=tools),
            tools.transcode_timeout_s,
            "ffmpeg (provenance copy)",
        )
    return Path(_abs(dest))


# --------------------------------------------------------------------------- side-by-side export


@dataclass(frozen=True)
class SideBySideLayout:
    """How the tiles of a side-by-side video are sized and labelled."""

    tile_width: int = 640
    tile_height: int = 360
    fps: float = 24.0
    caption_height: int = 96
    font_file: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    label_size: int = 22
    caption_size: int = 20

    def grid(self, count: int) -> tuple[int, int]:
        """(columns, rows): 2 side by side; 3 and 4 in a 2x2 grid."""
        if count == 2:
            return 2, 1
        if count in (3, 4):
            return 2, 2
        raise ValueError("a side-by-side video needs 2 to 4 clips")

    def output_size(self, count: int) -> tuple[int, int]:
        cols, rows = self.grid(count)
        return cols * self.tile_width, rows * self.tile_height + self.caption_height


def _drawtext(stream, textfile: PathLike, layout: SideBySideLayout, **placement):
    # textfile= keeps untrusted text out of the filter graph's syntax entirely, and
    # expansion=none stops drawtext from interpreting "%{...}" sequences in it.
    return stream.filter(
        "drawtext",
        fontfile=layout.font_file,
        textfile=_abs(textfile),
        expansion="none",
        fontcolor="white",
        box=1,
        boxcolor="black@0.6",
        boxborderw=6,
        **placement,
    )


def side_by_side_argv(
    sources: list[PathLike],
    label_files: list[PathLike],
    caption_file: PathLike,
    dest: PathLike,
    *,
    durations: list[float],
    layout: SideBySideLayout = SideBySideLayout(),
    tools: Tools = Tools(),
) -> list[str]:
    """The ffmpeg command that stacks 2-4 clips (hstack for 2, xstack for 3-4), each scaled
    and padded to one tile size at one frame rate, held on its last frame until the longest
    ends, labelled with the text of its label file, with the caption file's text below.
    Progress goes to stdout (`-progress pipe:1`)."""
    count = len(sources)
    cols, rows = layout.grid(count)
    if not (len(label_files) == len(durations) == count):
        raise ValueError("one label file and one duration per source")
    total = max(durations)
    w, h = layout.tile_width, layout.tile_height
    tiles = []
    for src, label, duration in zip(sources, label_files, durations):
        v = ffmpeg.input(_url(src), **_INPUT_OPTS)["v:0"]
        v = v.filter("scale", w=w, h=h, force_original_aspect_ratio="decrease")
        v = v.filter("pad", w=w, h=h, x="(ow-iw)/2", y="(oh-ih)/2", color="black")
        v = v.filter("setsar", 1).filter("fps", fps=layout.fps)
        if total - duration > 0.01:
            v = v.filter("tpad", stop_mode="clone", stop_duration=f"{total - duration:.3f}")
        tiles.append(_drawtext(v, label, layout, x=12, y=12, fontsize=layout.label_size))
    if count == 2:
        grid = ffmpeg.filter(tiles, "hstack", inputs=2)
    else:
        positions = [f"{(i % cols) * w}_{(i // cols) * h}" for i in range(count)]
        grid = ffmpeg.filter(tiles, "xstack", inputs=count, layout="|".join(positions), fill="black")
    out_w, out_h = layout.output_size(count)
    grid = grid.filter("pad", w=out_w, h=out_h, x=0, y=0, color="black")
    grid = _drawtext(grid, caption_file, layout, x=16, y=rows * h + 14, fontsize=layout.caption_size, line_spacing=6)
    out = ffmpeg.output(
        grid, _url(dest), an=None, sn=None, dn=None, vcodec="libx264", preset="veryfast", crf=23,
        pix_fmt="yuv420p", r=layout.fps, t=f"{total:.3f}", movflags="+faststart", map_metadata=-1, f="mp4",
        progress="pipe:1", nostats=None,
    )  # fmt: skip
    return _compile(out, tools)


def wrap_caption(text: str, *, width: int, lines: int) -> str:
    """The prompt as at most `lines` lines of `width` characters (ellipsis when cut)."""
    import textwrap

    flat = " ".join(text.split())
    wrapped = textwrap.wrap(flat, width=width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: max(0, width - 1)].rstrip() + "…"
    return "\n".join(wrapped)


def _run_with_progress(argv: list[str], timeout: float, what: str, total_s: float, on_progress) -> None:
    """Run an ffmpeg that writes `-progress` key=value lines to stdout; report fractions."""
    import tempfile
    import time

    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        except FileNotFoundError as exc:
            raise FFmpegUnavailable(
                f"{argv[0]!r} was not found (needed for {what}). {_INSTALL_HINT}", detail=str(exc)
            ) from exc
        deadline = time.monotonic() + timeout
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        buffer = b""
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise subprocess.TimeoutExpired(argv, timeout)
                if not sel.select(timeout=min(remaining, 1.0)):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                buffer += chunk
                *done, buffer = buffer.split(b"\n")
                for line in done:
                    key, _, value = line.decode("ascii", "replace").partition("=")
                    if key == "out_time_us" and value.strip().isdigit() and total_s > 0:
                        on_progress(min(1.0, int(value) / 1e6 / total_s))
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            proc.wait()
            err.seek(0)
            raise FFmpegFailed(
                f"{what} timed out after {timeout:g} s and was stopped.",
                code="ffmpeg_timeout",
                detail=_stderr_tail(err.read()),
            ) from exc
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            sel.close()
            proc.stdout.close()
        if proc.returncode != 0:
            err.seek(0)
            tail = _stderr_tail(err.read())
            raise FFmpegFailed(f"{what} failed (exit status {proc.returncode}):\n{tail}", detail=tail)


def make_side_by_side(
    sources: list[PathLike],
    labels: list[str],
    caption: str,
    dest: PathLike,
    *,
    layout: SideBySideLayout = SideBySideLayout(),
    tools: Tools = Tools(),
    on_progress=lambda fraction: None,
) -> VideoInfo:
    """Render 2-4 clips side by side into `dest` (H.264 MP4) and return its VideoInfo.

    `labels` (one per clip) and `caption` are untrusted text: they reach ffmpeg only through
    files next to `dest` (drawtext `textfile=`, no expansion), never inside the filter graph.
    Written to a temporary name, then os.replace()d; nothing is left behind on failure.
    `on_progress(fraction)` is called as ffmpeg advances."""
    if not 2 <= len(sources) <= 4 or len(labels) != len(sources):
        raise ValueError("a side-by-side video needs 2 to 4 clips, each with a label")
    if not os.path.isfile(layout.font_file):
        raise FFmpegUnavailable(
            f"the font {layout.font_file!r} is missing (Debian: apt-get install "
            "fonts-dejavu-core) or set EXPORT_FONT_FILE"
        )
    infos = [probe(src, tools) for src in sources]
    cols, _ = layout.grid(len(sources))
    label_chars = max(8, int(layout.tile_width / (layout.label_size * 0.62)) - 2)
    caption_chars = max(16, int(cols * layout.tile_width / (layout.caption_size * 0.6)) - 4)
    caption_lines = max(1, (layout.caption_height - 20) // (layout.caption_size + 8))
    with atomic_output(dest) as tmp:
        text_files = [tmp.with_name(f"{tmp.name}.label{i}.txt") for i in range(len(labels))]
        caption_file = tmp.with_name(f"{tmp.name}.caption.txt")
        try:
            for path, label in zip(text_files, labels):
                path.write_text(wrap_caption(label, width=label_chars, lines=1), encoding="utf-8")
            caption_file.write_text(wrap_caption(caption, width=caption_chars, lines=caption_lines), encoding="utf-8")
            argv = side_by_side_argv(
                sources,
                text_files,
                caption_file,
                tmp,
                durations=[i.duration_s for i in infos],
                layout=layout,
                tools=tools,
            )
            _run_with_progress(
                argv,
                tools.transcode_timeout_s,
                "ffmpeg (side-by-side export)",
                max(i.duration_s for i in infos),
                on_progress,
            )
            out = probe(tmp, tools)
        finally:
            for path in (*text_files, caption_file):
                path.unlink(missing_ok=True)
    on_progress(1.0)
    return out
