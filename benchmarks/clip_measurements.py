"""How long the per-clip measurements take (workers/media/measure.py, docs/metrics.md).

Run: VENV/bin/python benchmarks/clip_measurements.py [--runs N]

Makes two vendor-like originals with ffmpeg (testsrc2 moving pattern, H.264 yuv420p, 24 fps):
4 s at 512x288 (target: all measurements <= 1 s) and 5 s at 1280x720 (target <= 4 s), and
times `measure.measure_clip` on each, the one ffmpeg pass plus the numpy/OpenCV work. Baseline:
decoding the same clip alone with ffmpeg (`-f null`), which no measurement can avoid; the ratio
says what measuring costs beyond that. Load average first (a shared machine is noisy); one
warm-up run, then medians and CPU time of this process and its children.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from workers import media  # noqa: E402
from workers.media import measure  # noqa: E402

CASES = (("512x288", 4.0, 1.0), ("1280x720", 5.0, 4.0))  # size, seconds, target seconds


def original(dest: Path, size: str, seconds: float) -> Path:
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(dest),
        ],
        check=True,
        timeout=300,
    )  # fmt: skip
    return dest


def decode_only(path: Path) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path), "-f", "null", "-"],
        check=True,
        timeout=300,
    )


def cpu_s() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), cpu_s()
    fn()
    return time.perf_counter() - wall, cpu_s() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        for size, seconds, target in CASES:
            src = original(Path(tmp) / f"{size}.mp4", size, seconds)
            info = media.probe(src)
            measure.measure_clip(src, info)  # warm-up (imports, page cache)
            decode_only(src)
            runs = [timed(partial(measure.measure_clip, src, info)) for _ in range(args.runs)]
            base = [timed(partial(decode_only, src)) for _ in range(args.runs)]
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            base_wall = statistics.median(w for w, _ in base)
            print(
                f"{size} {seconds:g} s: measure {wall:.3f} s wall ({cpu:.3f} s CPU), target {target:g} s "
                f"({wall / target:.2f} of it: {'met' if wall <= target else 'NOT met'}); "
                f"decode alone {base_wall:.3f} s; ratio {wall / base_wall:.1f}x"
            )
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
