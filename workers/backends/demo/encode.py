"""Frames -> mp4: raw rgb24 frames piped into an ffmpeg subprocess that scales them to the
requested size and encodes bit-exact H.264, under a timeout that kills ffmpeg (run by
workers.media's process supervisor). The file is written under a temporary name in the
destination folder and renamed when complete."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from workers.files import atomic_output
from workers.media import FFmpegFailed, FFmpegUnavailable, process

from ..base import GenerationTimeout, PermanentError

X264_THREADS = 2


def audio_output_args(audio: bool) -> list[str]:
    """The second input (the sound track) as stereo AAC, bit-exact; or no audio at all."""
    if not audio:
        return ["-an"]
    return ["-map", "0:v", "-map", "1:a", "-c:a", "aac", "-b:a", "96k", "-ac", "2", "-flags:a", "+bitexact"]


def x264_output_args(threads: int = X264_THREADS, *, audio: bool = False) -> list[str]:
    """The encoder/muxer half of the ffmpeg command line (everything after the inputs).

    Bit-exact and with a fixed thread count, so the output bytes don't depend on the host's
    core count. Shared with benchmarks/demo_render.py so its ffmpeg baseline is comparable.
    `audio`: the command's second input is a sound track to encode.
    """
    return [
        *audio_output_args(audio),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "20",
        "-pix_fmt",
        "yuv420p",
        "-threads",
        str(threads),
        "-flags:v",
        "+bitexact",
        "-fflags",
        "+bitexact",
        "-map_metadata",
        "-1",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
    ]


def resolve_ffmpeg(params: Mapping[str, Any]) -> str:
    """The ffmpeg to run: the model's ffmpeg_binary param, else $FFMPEG_BINARY, else the
    `ffmpeg` on PATH. Missing is a permanent error (nothing a retry would fix)."""
    binary = params.get("ffmpeg_binary") or os.environ.get("FFMPEG_BINARY") or "ffmpeg"
    found = shutil.which(binary)
    if not found:
        raise PermanentError(
            f"demo backend: the ffmpeg binary {binary!r} was not found or is not executable; "
            "install ffmpeg (e.g. `apt-get install ffmpeg`) or set FFMPEG_BINARY / the "
            "model's ffmpeg_binary param",
            code="ffmpeg_missing",
        )
    return found


def ffmpeg_argv(
    ffmpeg: str,
    *,
    in_size: tuple[int, int],
    out_size: tuple[int, int],
    fps: int,
    dest: Path,
    sound: str | None = None,
    sound_file: Path | None = None,
) -> list[str]:
    """rgb24 frames on stdin -> bilinear scale to `out_size` (also the RGB->YUV conversion;
    bit-exact, single-threaded filtering) -> libx264 mp4 at `dest`. The clip's sound track, if
    any: `sound`, a lavfi source (sound.sound_source), or `sound_file`, an audio file (the WAV
    a local model's pipeline generated); both are encoded as AAC."""
    if sound and sound_file:
        raise ValueError("ffmpeg_argv: one sound track, a lavfi source or a file, not both")
    (in_w, in_h), (out_w, out_h) = in_size, out_size
    if sound:
        sound_input = ["-f", "lavfi", "-i", sound]
    elif sound_file is not None:
        sound_input = ["-i", str(sound_file)]
    else:
        sound_input = []
    return [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{in_w}x{in_h}",
        "-r",
        str(fps),
        "-i",
        "pipe:0",
        *sound_input,
        "-filter_threads",
        "1",
        "-vf",
        f"scale={out_w}:{out_h}:flags=bilinear+accurate_rnd+bitexact",
        *x264_output_args(audio=bool(sound_input)),
        str(dest),
    ]


def encode_frames(
    frames: Iterable[np.ndarray],
    *,
    ffmpeg: str,
    in_size: tuple[int, int],
    out_size: tuple[int, int],
    fps: int,
    dest: Path,
    timeout_s: float,
    sound: str | None = None,
    sound_file: Path | None = None,
) -> None:
    """Pipe rgb24 frames into ffmpeg; write to a temp file in dest's folder, then rename.
    `sound` / `sound_file`: the clip's sound track (see ffmpeg_argv)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(dest) as tmp:
        argv = ffmpeg_argv(
            ffmpeg, in_size=in_size, out_size=out_size, fps=fps, dest=tmp, sound=sound, sound_file=sound_file
        )
        try:
            result = process.run(
                argv,
                timeout=timeout_s,
                what="ffmpeg (demo encode)",
                check=False,
                feed=(frame.data.cast("B") for frame in frames),
            )
        except FFmpegUnavailable as exc:
            raise PermanentError(
                f"demo backend: cannot run ffmpeg {ffmpeg!r}: {exc.detail}", code="ffmpeg_missing"
            ) from exc
        except FFmpegFailed as exc:  # with check=False, only a timeout
            raise GenerationTimeout(
                f"demo backend: rendering and encoding did not finish within {timeout_s:g} s "
                "(render_timeout_s); ffmpeg was killed"
            ) from exc
        if result.returncode != 0 or not result.stdin_complete:
            tail = result.stderr[-2000:].decode("utf-8", "replace").strip()
            code = "ffmpeg_no_libx264" if "libx264" in tail and "nknown encoder" in tail else "ffmpeg_failed"
            raise PermanentError(
                f"demo backend: ffmpeg exited with status {result.returncode}: {tail or '(no output)'}",
                code=code,
            )
