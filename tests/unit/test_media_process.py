"""workers/media/process.py, the one subprocess supervisor, with small Python / sh children
instead of ffmpeg (its ffmpeg uses are covered by test_media, test_side_by_side and
test_demo_backend). No Django."""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import pytest

from workers.media import FFmpegFailed, FFmpegUnavailable
from workers.media.process import run

PY = sys.executable


def test_output_is_collected_and_stdin_is_empty():
    result = run(
        [PY, "-c", "import sys; print(repr(sys.stdin.read())); print('err', file=sys.stderr)"], timeout=30, what="t"
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, b"''\n", b"err\n")
    assert result.stdin_complete


def test_fed_chunks_reach_stdin_in_order():
    chunks = [bytes([i]) * 100_000 for i in range(50)]  # more than a pipe holds
    script = "import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"
    result = run([PY, "-c", script], timeout=30, what="t", feed=iter(chunks))
    assert result.stdout.decode().strip() == hashlib.sha256(b"".join(chunks)).hexdigest()
    assert result.stdin_complete


def test_a_child_that_stops_reading_leaves_stdin_incomplete():
    result = run([PY, "-c", "pass"], timeout=30, what="t", check=False, feed=(b"x" * 65536 for _ in range(100)))
    assert result.returncode == 0 and not result.stdin_complete


def test_an_error_while_feeding_kills_the_child_and_is_raised():
    def chunks():
        yield b"first"
        raise ValueError("render failed")

    started = time.monotonic()
    with pytest.raises(ValueError, match="render failed"):
        run([PY, "-c", "import time; time.sleep(30)"], timeout=60, what="t", feed=chunks())
    assert time.monotonic() - started < 10


def test_lines_are_reported_as_they_come():
    lines = []
    script = (
        "import sys, time\nfor i in range(3): print(f'n={i}', flush=True); time.sleep(0.05)\nsys.stdout.write('last')"
    )
    result = run([PY, "-c", script], timeout=30, what="t", on_line=lines.append)
    assert lines == [b"n=0", b"n=1", b"n=2", b"last"] and result.stdout == b""


def test_non_zero_exit_raises_with_the_stderr_tail_unless_unchecked():
    argv = [PY, "-c", "import sys; print('boom: exploded', file=sys.stderr); sys.exit(3)"]
    with pytest.raises(FFmpegFailed) as exc:
        run(argv, timeout=30, what="step x")
    assert exc.value.code == "ffmpeg_failed" and "step x failed (exit status 3)" in str(exc.value)
    assert exc.value.detail == "boom: exploded"
    assert run(argv, timeout=30, what="t", check=False).returncode == 3


def test_timeout_kills_the_whole_process_group():
    lines = []
    started = time.monotonic()
    with pytest.raises(FFmpegFailed) as exc:
        run(["sh", "-c", "sleep 30 & echo $!; wait"], timeout=1, what="t", on_line=lines.append)
    assert exc.value.code == "ffmpeg_timeout" and time.monotonic() - started < 10
    grandchild = Path(f"/proc/{int(lines[0])}/status")
    for _ in range(50):  # the grandchild is gone (or a zombie waiting for its reaper)
        if not grandchild.exists() or "State:\tZ" in grandchild.read_text():
            break
        time.sleep(0.1)
    else:
        pytest.fail("the grandchild survived the timeout")


def test_missing_or_non_executable_binaries_are_unavailable(tmp_path):
    with pytest.raises(FFmpegUnavailable, match="was not found"):
        run([str(tmp_path / "nope")], timeout=5, what="t")
    text = tmp_path / "text"
    text.write_text("not a program")
    with pytest.raises(FFmpegUnavailable, match="is not executable"):
        run([str(text)], timeout=5, what="t")
    text.chmod(0o755)  # executable, but no #! line and not ELF
    with pytest.raises(FFmpegUnavailable, match="cannot be executed"):
        run([str(text)], timeout=5, what="t")
