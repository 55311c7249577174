"""Overhead of workers.media's pipeline over running the same ffmpeg commands directly.

Run: .venv/bin/python benchmarks/media_pipeline.py

For each synthetic source (testsrc2: 512x288 24 fps 4 s, and 1280x720 30 fps 8 s) it times

* pipeline: validate() + make_web_rendition(source=info) + make_poster(source=info)
  + sha256_file() of source and rendition, i.e. what the worker does;
* baseline: the SAME argv (from media.probe_argv / web_rendition_argv / poster_argv, and the
  probe of the finished rendition) run directly with subprocess.run, a minimal json parse of
  ffprobe's output, the same Pillow
  resize + JPEG save for the poster (ffmpeg gives a full-size PNG in both cases), written
  straight to the final paths, and hashlib.sha256 over both files read whole.

The pipeline's extra work is its safety: os.stat checks, defensive parsing and limits,
temp file + os.replace. Median of 5 interleaved runs
after one warm-up run each.
"""

from __future__ import annotations

import hashlib
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from PIL import Image  # noqa: E402

from workers import media  # noqa: E402

RUNS = 5
POSTER_AT_S = 1.0
POSTER_WIDTH = 640
TARGET_RATIO = 1.20
SOURCES = [  # (width, height, fps, seconds)
    (512, 288, 24, 4),
    (1280, 720, 30, 8),
]


def make_source(dest: Path, w: int, h: int, fps: int, seconds: int) -> None:
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate={fps}:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(dest),
        ],
        check=True,
        timeout=120,
    )  # fmt: skip


def pipeline(src: Path, out_dir: Path, tools: media.Tools) -> None:
    info = media.validate(src, media.MediaLimits(), tools)
    rendition = out_dir / "web.mp4"
    media.make_web_rendition(src, rendition, tools=tools, source=info)
    media.make_poster(src, out_dir / "poster.jpg", at_s=POSTER_AT_S, width=POSTER_WIDTH, tools=tools, source=info)
    media.sha256_file(src)
    media.sha256_file(rendition)


def baseline(src: Path, out_dir: Path, tools: media.Tools) -> None:
    probed = subprocess.run(
        media.probe_argv(src, tools), capture_output=True, check=True, timeout=tools.probe_timeout_s
    )
    data = json.loads(probed.stdout)
    video = next(s for s in data["streams"] if s["codec_type"] == "video")
    num, den = video["avg_frame_rate"].split("/")
    duration = float(data["format"]["duration"])

    rendition = out_dir / "web_direct.mp4"
    argv = media.web_rendition_argv(src, rendition, fps=int(num) / int(den), stream_index=video["index"], tools=tools)
    subprocess.run(argv, capture_output=True, check=True, timeout=tools.transcode_timeout_s)
    # The pipeline probes its rendition too (to catch truncated sources): the same command here.
    subprocess.run(media.probe_argv(rendition, tools), capture_output=True, check=True, timeout=tools.probe_timeout_s)

    argv = media.poster_argv(src, at_s=min(POSTER_AT_S, duration / 2), stream_index=video["index"], tools=tools)
    png = subprocess.run(argv, capture_output=True, check=True, timeout=tools.transcode_timeout_s).stdout
    with Image.open(io.BytesIO(png)) as im:
        frame = im.convert("RGB")
    height = max(1, round(frame.height * POSTER_WIDTH / frame.width))
    frame.resize((POSTER_WIDTH, height), Image.Resampling.LANCZOS).save(
        out_dir / "poster_direct.jpg", format="JPEG", quality=85
    )

    hashlib.sha256(src.read_bytes()).hexdigest()
    hashlib.sha256(rendition.read_bytes()).hexdigest()


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its (waited-for) children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, *args) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call."""
    c0, t0 = _cpu_s(), time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0, _cpu_s() - c0


def _fmt(runs: list[tuple[float, float]]) -> str:
    return "/".join(f"{t:.2f}" for t, _ in runs)


def main() -> int:
    tools = media.Tools()
    media.check_tools(tools)
    started = time.perf_counter()
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="media-bench-") as tmp:
        tmp_dir = Path(tmp)
        for w, h, fps, seconds in SOURCES:
            src = tmp_dir / f"src_{w}x{h}_{fps}fps_{seconds}s.mp4"
            make_source(src, w, h, fps, seconds)
            out_dir = tmp_dir / f"out_{w}x{h}"
            out_dir.mkdir()
            timed(pipeline, src, out_dir, tools)  # warm-up (page cache, shared libraries)
            timed(baseline, src, out_dir, tools)
            p_times, b_times = [], []
            for _ in range(RUNS):  # interleaved, so drift hits both alike
                p_times.append(timed(pipeline, src, out_dir, tools))
                b_times.append(timed(baseline, src, out_dir, tools))
            p = statistics.median(t for t, _ in p_times)
            b = statistics.median(t for t, _ in b_times)
            p_cpu = statistics.median(c for _, c in p_times)
            b_cpu = statistics.median(c for _, c in b_times)
            ratio = p / b
            worst = max(worst, ratio)
            print(
                f"source {w}x{h} {seconds}s: pipeline {p:.2f} s  baseline(direct ffmpeg) {b:.2f} s  "
                f"ratio {ratio:.2f}  (target <= {TARGET_RATIO:.2f})",
                flush=True,
            )
            # Wall time is at the mercy of whatever else runs on the machine; CPU time is not.
            print(
                f"    cpu time:   pipeline {p_cpu:.2f} s  baseline {b_cpu:.2f} s  ratio {p_cpu / b_cpu:.2f}"
                f"   (wall runs: pipeline {_fmt(p_times)}  baseline {_fmt(b_times)})",
                flush=True,
            )
    print(f"total benchmark time {time.perf_counter() - started:.1f} s")
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
