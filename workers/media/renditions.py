"""What the pipeline makes of a valid video: the blind web rendition, the poster, the tagged
provenance copy of the original, and their hashes. Each output is written to a temporary name
beside its destination and renamed when complete; nothing is left behind on failure."""

from __future__ import annotations

import hashlib
import io
import math
import re
from pathlib import Path

from PIL import Image

from workers.files import atomic_output

from .errors import FFmpegFailed, InvalidVideo, MediaError
from .filtergraph import chain, filter_spec
from .probing import VideoInfo, probe, probe_failure
from .process import Finished, run, stderr_tail
from .tools import DEFAULT_TOOLS, GLOBAL_ARGS, PathLike, Tools, absolute, file_url, input_args

# A rendition shorter than this fraction of its source means the source could not be decoded
# to the end (truncated / corrupt). ffmpeg conceals such damage and exits 0, so this is the
# check that catches it. A file cut in half decodes to ~50% of its duration, hence 0.9, not 0.5.
_MIN_RENDITION_RATIO = 0.9
# The x264 SEI "options" user-data string leaks the encoder and its settings: drop all SEI NAL
# units (type 6) from the H.264 bitstream.
_STRIP_SEI_BSF = "filter_units=remove_types=6"
# libavformat writes the stream's "encoder" tag ("Lavc libx264") into the MP4 sample entry's
# compressorname; pin it to the neutral name ISO/IEC 14496-15 recommends for AVC.
_COMPRESSOR_NAME = "AVC Coding"

_MUXER_BY_SUFFIX = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}


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
    keep_audio: bool = False,
    duration_s: float | None = None,
    tools: Tools = DEFAULT_TOOLS,
) -> list[str]:
    """The ffmpeg command that writes the blind web rendition of `src` to `dest` (MP4).

    `fps` is the source's frame rate (from `probe`): an fps filter caps it at 30 only when
    the source is faster. `keep_audio`: carry the source's first audio track as stereo AAC
    (its loudness untouched: the gallery plays each model's sound as the model made it);
    otherwise the rendition is silent. `duration_s` (the picture's): sound that runs on after
    it is cut there, so the player's timeline is the picture's.
    """
    if max_height < 2:
        raise ValueError("max_height must be >= 2")
    scale = filter_spec("scale", w=_even_expr("w", max_height), h=_even_expr("h", max_height))
    cap_fps = [filter_spec("fps", fps=30)] if fps > 30.0 + 1e-3 else []
    graph = f"[0:{int(stream_index)}]{chain(scale, filter_spec('setsar', 1), *cap_fps)}[v]"
    return [
        tools.ffmpeg, *GLOBAL_ARGS, *input_args(src),
        "-filter_complex", graph, "-map", "[v]", *_audio_args(keep_audio, duration_s), "-sn", "-dn",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-bsf:v", _STRIP_SEI_BSF,
        "-map_metadata", "-1", "-map_chapters", "-1", "-metadata:s:v:0", f"encoder={_COMPRESSOR_NAME}",
        "-flags:v", "+bitexact", "-fflags", "+bitexact", "-movflags", "+faststart",
        "-f", "mp4", file_url(dest),
    ]  # fmt: skip


def _audio_args(keep_audio: bool, duration_s: float | None) -> list[str]:
    if not keep_audio:
        return ["-an"]
    trim = ["-filter:a", filter_spec("atrim", end=f"{duration_s:.6f}")] if duration_s else []
    return ["-map", "0:a:0", *trim, "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000", "-flags:a", "+bitexact"]


def poster_argv(src: PathLike, *, at_s: float, stream_index: int = 0, tools: Tools = DEFAULT_TOOLS) -> list[str]:
    """The ffmpeg command that writes one RGB PNG frame at `at_s` to stdout."""
    # Square pixels, so the poster keeps the display aspect.
    square = chain(filter_spec("scale", w="max(1,round(iw*sar))", h="ih"), filter_spec("setsar", 1))
    return [
        tools.ffmpeg, *GLOBAL_ARGS, *input_args(src, seek_s=max(0.0, at_s)),
        "-filter_complex", f"[0:{int(stream_index)}]{square}[v]", "-map", "[v]", "-an", "-sn",
        "-frames:v", "1", "-c:v", "png", "-pix_fmt", "rgb24", "-f", "image2pipe", "pipe:1",
    ]  # fmt: skip


def ffmpeg_failure(src: PathLike, what: str, proc: Finished) -> MediaError:
    """Non-zero exit of a processing step: the input's fault (InvalidVideo) when ffmpeg says
    so in a way we recognise, FFmpegFailed with the stderr tail otherwise."""
    text = proc.stderr.decode("utf-8", errors="replace")
    tail = stderr_tail(text)
    if "Format not on whitelist" in text or "moov atom not found" in text:
        return probe_failure(src, proc.stderr)
    if re.search(r"Invalid data found when processing input|Error while decoding|corrupt input packet", text):
        return InvalidVideo("The video could not be decoded; the file is damaged.", code="decode_failed", detail=tail)
    return FFmpegFailed(f"{what} failed (exit status {proc.returncode}):\n{tail}", detail=tail)


def make_web_rendition(
    src: PathLike,
    dest: PathLike,
    *,
    tools: Tools = DEFAULT_TOOLS,
    max_height: int = 1080,
    source: VideoInfo | None = None,
    keep_audio: bool = False,
) -> VideoInfo:
    """Write the blind web rendition of `src` to `dest` and return its VideoInfo.

    H.264 (libx264, veryfast, crf 23), yuv420p, even dimensions with height <= max_height,
    fps capped at 30, no audio unless `keep_audio` (then the first audio track, as stereo AAC:
    pass it only for a track `audio.analyse_audio` found playable), +faststart, and nothing that identifies the source or the
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
            keep_audio=keep_audio and src_info.has_audio,
            duration_s=src_info.duration_s,
            tools=tools,
        )
        what = "ffmpeg (web rendition)"
        proc = run(argv, timeout=tools.transcode_timeout_s, what=what, check=False)
        if proc.returncode != 0:
            raise ffmpeg_failure(src, what, proc)
        try:
            out = probe(tmp, tools)
        except InvalidVideo as exc:
            raise InvalidVideo(
                "The video could not be decoded (no frames came out); the file is damaged.",
                code="decode_failed",
                detail=stderr_tail(proc.stderr) or exc.detail,
            ) from exc
        if not out.frame_count or out.duration_s < _MIN_RENDITION_RATIO * src_info.duration_s:
            raise InvalidVideo(
                f"Only {out.duration_s:.2f} s of the video's {src_info.duration_s:.2f} s could be "
                "decoded; the file is truncated or damaged.",
                code="decode_failed",
                detail=stderr_tail(proc.stderr),
            )
    return out


def make_poster(
    src: PathLike,
    dest: PathLike,
    *,
    at_s: float,
    width: int = 640,
    tools: Tools = DEFAULT_TOOLS,
    source: VideoInfo | None = None,
) -> tuple[int, int]:
    """Write a JPEG (quality 85, no EXIF) of the frame at min(at_s, duration/2), `width`
    pixels wide, to `dest`. Returns (width, height). `source` as for make_web_rendition."""
    if width < 1:
        raise ValueError("width must be >= 1")
    info = source if source is not None else probe(src, tools)
    t = at_s if isinstance(at_s, (int, float)) and math.isfinite(at_s) else 0.0
    t = max(0.0, min(float(t), info.duration_s / 2))
    argv = poster_argv(src, at_s=t, stream_index=info.stream_index, tools=tools)
    what = "ffmpeg (poster frame)"
    proc = run(argv, timeout=tools.transcode_timeout_s, what=what, check=False)
    if proc.returncode != 0:
        raise ffmpeg_failure(src, what, proc)
    if not proc.stdout:
        raise InvalidVideo(
            "No frame could be decoded for the poster; the file is damaged.",
            code="decode_failed",
            detail=stderr_tail(proc.stderr),
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
    with open(absolute(path), "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def tagged_copy_argv(
    src: PathLike, dest: PathLike, *, comment: str, muxer: str, tools: Tools = DEFAULT_TOOLS
) -> list[str]:
    """Stream copy (no re-encode) of `src` with its own metadata kept and `comment` set."""
    return [
        tools.ffmpeg, *GLOBAL_ARGS, *input_args(src),
        "-map", "0:v", "-map", "0:a?", "-c", "copy",
        "-map_metadata", "0", "-metadata", f"comment={comment}",
        "-f", muxer, file_url(dest),
    ]  # fmt: skip


def make_tagged_copy(src: PathLike, dest: PathLike, *, comment: str, tools: Tools = DEFAULT_TOOLS) -> Path:
    """Write a copy of `src` (the original as received, which is never modified) to `dest`
    carrying `comment` (a provenance record) in its container metadata. The muxer follows
    `src`'s suffix. Raises FFmpegFailed, FFmpegUnavailable."""
    muxer = _MUXER_BY_SUFFIX.get(Path(absolute(src)).suffix.lower(), "mp4")
    with atomic_output(dest) as tmp:
        run(
            tagged_copy_argv(src, tmp, comment=comment, muxer=muxer, tools=tools),
            timeout=tools.transcode_timeout_s,
            what="ffmpeg (provenance copy)",
        )
    return Path(absolute(dest))
