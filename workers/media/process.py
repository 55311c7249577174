"""Runs ffmpeg / ffprobe: an argument list (never a shell), no stdin, a timeout that kills the
child, and failures mapped onto the media errors."""

from __future__ import annotations

import errno
import subprocess

from .errors import FFmpegFailed, FFmpegUnavailable

STDERR_TAIL_LINES = 12
INSTALL_HINT = "Install FFmpeg (Debian/Ubuntu: apt-get install ffmpeg) or set the path to the binary."


def stderr_tail(stderr: bytes | str | None, lines: int = STDERR_TAIL_LINES) -> str:
    if not stderr:
        return ""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", errors="replace")
    tail = [ln[:300] for ln in stderr.strip().splitlines()[-lines:]]
    return "\n".join(tail)


def run(argv: list[str], timeout: float, what: str, *, check: bool = True) -> subprocess.CompletedProcess[bytes]:
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
            f"{argv[0]!r} was not found (needed for {what}). {INSTALL_HINT}", detail=str(exc)
        ) from exc
    except PermissionError as exc:
        raise FFmpegUnavailable(
            f"{argv[0]!r} is not executable (needed for {what}). {INSTALL_HINT}", detail=str(exc)
        ) from exc
    except OSError as exc:
        if exc.errno == errno.ENOEXEC:  # not a program this system can run
            raise FFmpegUnavailable(
                f"{argv[0]!r} cannot be executed (needed for {what}). {INSTALL_HINT}",
                detail=str(exc),
            ) from exc
        raise
    except subprocess.TimeoutExpired as exc:
        raise FFmpegFailed(
            f"{what} timed out after {timeout:g} s and was stopped."
            + (f"\n{stderr_tail(exc.stderr)}" if exc.stderr else ""),
            code="ffmpeg_timeout",
            detail=stderr_tail(exc.stderr),
        ) from exc
    if check and proc.returncode != 0:
        tail = stderr_tail(proc.stderr)
        raise FFmpegFailed(f"{what} failed (exit status {proc.returncode}):\n{tail}", detail=tail)
    return proc
