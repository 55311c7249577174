"""What measuring the sound adds to the media stage.

Run: .venv/bin/python benchmarks/audio_analysis.py [--runs N] [--seconds S]

Makes one vendor-like original (1280x720, 24 fps, H.264 with a 48 kHz stereo AAC tone, S
seconds, default 8) and times `media.analyse_audio` on it: one ffprobe of the audio stream and
one decode through silencedetect and ebur128 (true peak upsamples 4x). Baseline: the web
rendition of the same original (`media.make_web_rendition`, with its sound), which the media
stage makes anyway; the ratio is the share the sound check adds to that step. The load
average is printed first (a shared machine is noisy); one warm-up run, then the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from workers import media  # noqa: E402


def original(dest: Path, seconds: float) -> Path:
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=24:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-ac", "2", str(dest),
        ],
        check=True,
        timeout=300,
    )  # fmt: skip
    return dest


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        src = original(Path(tmp) / "original.mp4", args.seconds)
        info = media.probe(src)
        web = Path(tmp) / "web.mp4"
        analyse = lambda: media.analyse_audio(src, info)  # noqa: E731
        render = lambda: media.make_web_rendition(src, web, source=info, keep_audio=True)  # noqa: E731
        analyse(), render()  # warm-up
        measured = statistics.median(timed(analyse) for _ in range(args.runs))
        baseline = statistics.median(timed(render) for _ in range(args.runs))
        facts = media.analyse_audio(src, info)
    print(f"original: {args.seconds:g} s 1280x720 H.264 + AAC stereo; measured {facts.loudness_lufs} LUFS")
    print(f"sound analysis  median {measured:.3f} s over {args.runs} runs")
    print(f"web rendition   median {baseline:.3f} s (baseline)")
    print(f"ratio analysis/rendition: {measured / baseline:.2f}")


if __name__ == "__main__":
    main()
