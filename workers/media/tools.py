"""What every ffmpeg / ffprobe command shares: which binaries and timeouts (`Tools`), the global
flags, and how an untrusted input reaches them: a regular file, passed as a ``file:`` URL, with
only the demuxers and the protocol we accept."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from typing import Union

from .errors import FFmpegUnavailable, InvalidVideo
from .process import INSTALL_HINT, run, stderr_tail

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Tools:
    """Which binaries and timeouts to use."""

    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"
    probe_timeout_s: float = 20
    transcode_timeout_s: float = 300


# The default of every `tools` parameter: the binaries on PATH, the default timeouts.
DEFAULT_TOOLS = Tools()


# Demuxer names (as ffmpeg spells them) that AVFormat may pick for an input. `format_whitelist`
# matches any comma-separated element, so this admits exactly the "mov,mp4,m4a,3gp,3g2,mj2" and
# "matroska,webm" demuxers and refuses everything else (hls, concat, image2, png_pipe, avi, ...).
ACCEPTED_DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"
# Global options of every ffmpeg command (ffprobe's are in probe_argv).
GLOBAL_ARGS = ("-hide_banner", "-nostdin", "-loglevel", "error", "-y")


def absolute(path: PathLike) -> str:
    p = os.fspath(path)
    if not isinstance(p, str):
        raise TypeError("paths must be str or os.PathLike[str]")
    return os.path.abspath(p)


def file_url(path: PathLike) -> str:
    # "file:" + absolute path: never parsed as another protocol ("concat:", "http:") nor as
    # an option ("-i"), whatever the file is called.
    return "file:" + absolute(path)


def input_args(path: PathLike, *, seek_s: float | None = None) -> list[str]:
    """``-i`` for an untrusted file: only the demuxers and the protocol we accept, and a
    ``file:`` URL. `seek_s` seeks the input (before decoding) to that time."""
    seek = ["-ss", f"{seek_s:.6f}"] if seek_s is not None else []
    return ["-format_whitelist", ACCEPTED_DEMUXERS, "-protocol_whitelist", "file", *seek, "-i", file_url(path)]


def ffprobe_args(tools: Tools) -> list[str]:
    """ffprobe, quiet but for errors, that opens an untrusted file only through the demuxers and
    the protocol we accept (the options go before the show/select ones and the file URL)."""
    return [
        tools.ffprobe,
        "-hide_banner",
        "-v",
        "error",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        ACCEPTED_DEMUXERS,
    ]


def regular_file_size(path: PathLike) -> int:
    """Size of `path`, refusing anything that is not a regular file (FIFO, device, dir)."""
    st = os.stat(absolute(path))  # FileNotFoundError propagates: a missing file is a caller bug
    if not stat.S_ISREG(st.st_mode):
        raise InvalidVideo("This is not a regular file, so it cannot be a video.", code="not_a_video")
    if st.st_size == 0:
        raise InvalidVideo("The file is empty.", code="empty_file")
    return st.st_size


def check_tools(tools: Tools = DEFAULT_TOOLS) -> None:
    """Raise FFmpegUnavailable unless both binaries run and ffmpeg has libx264."""
    timeout = tools.probe_timeout_s
    for binary in (tools.ffmpeg, tools.ffprobe):
        proc = run([binary, "-hide_banner", "-version"], timeout=timeout, what=f"{binary} -version", check=False)
        if proc.returncode != 0 or not proc.stdout:
            raise FFmpegUnavailable(
                f"{binary!r} does not run properly (exit status {proc.returncode}). {INSTALL_HINT}",
                detail=stderr_tail(proc.stderr),
            )
    proc = run([tools.ffmpeg, "-hide_banner", "-encoders"], timeout=timeout, what="ffmpeg -encoders", check=False)
    if not re.search(rb"\slibx264\s", proc.stdout or b""):
        raise FFmpegUnavailable(
            f"{tools.ffmpeg!r} was built without the libx264 encoder. "
            "Install a build with it (Debian/Ubuntu: apt-get install ffmpeg)."
        )
