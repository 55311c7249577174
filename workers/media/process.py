"""The one supervisor of ffmpeg / ffprobe processes.

`run` starts an argument list (never a shell) in a process group of its own, with no stdin
unless the caller feeds it, reads stdout and stderr as they come, and kills the group when the
timeout expires. Failures map onto the media errors: a missing or non-executable binary is
FFmpegUnavailable, a timeout FFmpegFailed(code="ffmpeg_timeout"), a non-zero exit
FFmpegFailed with the stderr tail (unless the caller checks the result itself).
"""

from __future__ import annotations

import errno
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .errors import FFmpegFailed, FFmpegUnavailable

STDERR_TAIL_LINES = 12
INSTALL_HINT = "Install FFmpeg (Debian/Ubuntu: apt-get install ffmpeg) or set the path to the binary."
# With -loglevel error stderr is a few lines; a damaged input can still make ffmpeg report
# every packet, so only the last part is kept (the tail is what the errors quote).
_STDERR_KEPT_BYTES = 1024 * 1024
_READ_SIZE = 65536


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: bytes  # empty when the lines went to `on_line`
    stderr: bytes  # at most the last _STDERR_KEPT_BYTES
    # Every chunk of `feed` was written and stdin closed cleanly; False when the process
    # stopped reading early (broken pipe). True when nothing was fed.
    stdin_complete: bool = True


def stderr_tail(stderr: bytes | str | None, lines: int = STDERR_TAIL_LINES) -> str:
    if not stderr:
        return ""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", errors="replace")
    tail = [ln[:300] for ln in stderr.strip().splitlines()[-lines:]]
    return "\n".join(tail)


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    what: str,
    check: bool = True,
    feed: Iterable[bytes | memoryview] | None = None,
    on_line: Callable[[bytes], None] | None = None,
) -> Finished:
    """Run `argv` to completion within `timeout` seconds. `what` names the step in messages.

    `feed`: chunks written to stdin by a thread (stdin is /dev/null without it); iterating
    it counts against the timeout, and an exception it raises kills the process and is
    re-raised here. `on_line`: called with each stdout line (without its newline) as it
    arrives, instead of collecting stdout. check=False returns a non-zero exit instead of
    raising; timeouts and missing binaries raise either way.
    """
    proc = _start(argv, what, stdin=subprocess.DEVNULL if feed is None else subprocess.PIPE)
    deadline = time.monotonic() + timeout
    feeder = _Feeder(proc, feed) if feed is not None else None
    stdout, stderr = bytearray(), bytearray()
    try:
        _pump(proc, deadline, stdout, stderr, on_line)
        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired as exc:
        _stop(proc, feeder)
        tail = stderr_tail(bytes(stderr))
        raise FFmpegFailed(
            f"{what} timed out after {timeout:g} s and was stopped." + (f"\n{tail}" if tail else ""),
            code="ffmpeg_timeout",
            detail=tail,
        ) from exc
    except BaseException:
        _stop(proc, feeder)
        raise
    if feeder is not None:
        feeder.join()
        if feeder.error is not None:
            raise feeder.error
    result = Finished(proc.returncode, bytes(stdout), bytes(stderr), feeder is None or feeder.complete)
    if check and result.returncode != 0:
        tail = stderr_tail(result.stderr)
        raise FFmpegFailed(f"{what} failed (exit status {result.returncode}):\n{tail}", detail=tail)
    return result


def _start(argv: Sequence[str], what: str, *, stdin: int) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            list(argv),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            shell=False,
            start_new_session=True,  # its own process group, killed as a whole
        )
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            problem = "was not found"
        elif isinstance(exc, PermissionError):
            problem = "is not executable"
        elif exc.errno == errno.ENOEXEC:  # not a program this system can run
            problem = "cannot be executed"
        else:
            raise
        raise FFmpegUnavailable(f"{argv[0]!r} {problem} (needed for {what}). {INSTALL_HINT}", detail=str(exc)) from exc


def _pump(
    proc: subprocess.Popen[bytes],
    deadline: float,
    stdout: bytearray,
    stderr: bytearray,
    on_line: Callable[[bytes], None] | None,
) -> None:
    """Read stdout and stderr until both close; TimeoutExpired at the deadline."""
    assert proc.stdout is not None and proc.stderr is not None  # started with both piped
    pipes = {id(stdout): proc.stdout, id(stderr): proc.stderr}
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, stdout)
        selector.register(proc.stderr, selectors.EVENT_READ, stderr)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired(proc.args, 0)
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fd, _READ_SIZE)
                if not chunk:
                    selector.unregister(key.fileobj)
                    pipes[id(key.data)].close()
                    continue
                key.data.extend(chunk)
                if key.data is stderr and len(stderr) > 2 * _STDERR_KEPT_BYTES:
                    del stderr[:-_STDERR_KEPT_BYTES]
                if key.data is stdout and on_line is not None:
                    *lines, rest = stdout.split(b"\n")
                    stdout[:] = rest
                    for line in lines:
                        on_line(bytes(line))
    if on_line is not None and stdout:
        on_line(bytes(stdout))  # a last line without its newline
        stdout.clear()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _stop(proc: subprocess.Popen[bytes], feeder: _Feeder | None) -> None:
    if feeder is not None:
        feeder.stop.set()
    _kill(proc)
    proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
    if feeder is not None:
        feeder.join()


class _Feeder:
    """Writes `chunks` to the process's stdin from a thread of its own, so that stdout and
    stderr keep being read (a full pipe would otherwise stall both sides)."""

    def __init__(self, proc: subprocess.Popen[bytes], chunks: Iterable[bytes | memoryview]) -> None:
        self.proc = proc
        self.chunks = chunks
        self.stop = threading.Event()
        self.complete = False
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._feed, name="ffmpeg-stdin", daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        stdin = self.proc.stdin
        assert stdin is not None  # started with stdin piped
        try:
            for chunk in self.chunks:
                if self.stop.is_set():
                    return
                stdin.write(chunk)
            stdin.close()
            self.complete = True
        except (BrokenPipeError, ConnectionResetError):
            pass  # the process stopped reading: `complete` stays False
        except BaseException as exc:
            self.error = exc
            _kill(self.proc)
        finally:
            try:
                stdin.close()
            except OSError:
                pass

    def join(self) -> None:
        self.thread.join()
