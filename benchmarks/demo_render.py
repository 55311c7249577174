"""Render + encode time of the procedural demo backend against its 1.5 s target.

Run: .venv/bin/python benchmarks/demo_render.py [--runs N] [--strict]

For each demo preset (the backend_params of the models whose backend_key is "demo" in
webapp/catalog/data/catalog.json) it times ProceduralDemoBackend.generate() for a 4 s
512x288 clip, both at the preset's own frame rate (what the catalog model produces) and
forced to 24 fps (the target's worst case: 96 frames with that preset's
scale/blur/flicker/grain), for a typical prompt and a busy one (six layers of content). It
prints the median wall time, the target (1.5 s) and measured/target.

Reference: ffmpeg's own testsrc2 lavfi source encoded with the same x264 arguments
(x264_output_args) at the same size, frame rate and duration, i.e. the cost of the encode
alone; each preset line also gives its ratio to that.

Wall times on a shared machine are noisy: the load average is printed first, and each line
also gives the CPU seconds used (Python + ffmpeg). One warm-up run, then the median of --runs.
"""

from __future__ import annotations

import argparse
import json
import os
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

from workers.backends.base import GenerationRequest  # noqa: E402
from workers.backends.demo import ProceduralDemoBackend, x264_output_args  # noqa: E402

CATALOG_JSON = REPO_ROOT / "webapp/catalog/data/catalog.json"

TARGET_S = 1.5
WIDTH, HEIGHT, SECONDS, FPS = 512, 288, 4, 24
PROMPTS = {
    "typical": "a red ball bouncing slowly",
    "busy": "rain over the city at night, stars, birds flying over ocean waves, a golden sun",
}


def demo_presets() -> dict[str, dict]:
    """Catalog slug -> backend_params for the models whose backend_key is "demo"."""
    models = json.loads(CATALOG_JSON.read_text(encoding="utf-8"))["models"]
    return {m["slug"]: m["backend_params"] for m in models if m.get("backend_key") == "demo"}


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(fn) -> tuple[float, float]:
    c0, t0 = _cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, _cpu() - c0


def _measure(fn, runs: int) -> tuple[float, float]:
    fn()  # warm-up
    samples = [_timed(fn) for _ in range(runs)]
    return (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))


def bench_testsrc2(workdir: Path, runs: int) -> tuple[float, float]:
    dest = workdir / "testsrc2.mp4"
    argv = [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}:duration={SECONDS}",
        *x264_output_args(),
        str(dest),
    ]  # fmt: skip
    return _measure(lambda: subprocess.run(argv, check=True, timeout=120), runs)


def bench_preset(workdir: Path, params: dict, prompt: str, runs: int) -> tuple[float, float]:
    request = GenerationRequest(
        prompt=prompt,
        duration_s=SECONDS,
        width=WIDTH,
        height=HEIGHT,
        aspect_ratio="16:9",
        seed=1234,
        params=params,
    )

    def run() -> None:
        ProceduralDemoBackend().generate(
            request, workdir=workdir, resume_vendor_job_id=None, on_submitted=lambda _id: None
        )

    return _measure(run, runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case (default 3)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any case's median is over the target")
    args = parser.parse_args()

    load1, _, _ = os.getloadavg()
    print(
        f"demo backend: {WIDTH}x{HEIGHT}, {SECONDS} s clips, median of {args.runs} runs, "
        f"{os.cpu_count()} CPUs, load average {load1:.2f}"
    )
    presets = demo_presets()
    over = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="demo-bench-") as tmp:
        workdir = Path(tmp)
        ref_wall, ref_cpu = bench_testsrc2(workdir, args.runs)
        print(
            f"{'ffmpeg testsrc2 @24fps':<32} encode        {ref_wall:4.2f} s  "
            f"target {TARGET_S:4.2f} s  ratio {ref_wall / TARGET_S:4.2f}  cpu {ref_cpu:4.2f} s"
        )
        for label, prompt in PROMPTS.items():
            for slug, preset in presets.items():
                for params in (preset, {**preset, "fps": FPS}):
                    if params is not preset and preset["fps"] == FPS:
                        continue
                    wall, cpu = bench_preset(workdir, params, prompt, args.runs)
                    name = f"{slug} @{params['fps']}fps {label}"
                    print(
                        f"{name:<32} render+encode {wall:4.2f} s  target {TARGET_S:4.2f} s  "
                        f"ratio {wall / TARGET_S:4.2f}  cpu {cpu:4.2f} s  "
                        f"vs testsrc2 x{wall / ref_wall:.1f}"
                    )
                    if wall > TARGET_S:
                        over.append(name)
    print(
        f"total {time.perf_counter() - started:.1f} s; "
        + (f"over target: {', '.join(over)}" if over else "all within target")
    )
    return 1 if (args.strict and over) else 0


if __name__ == "__main__":
    sys.exit(main())
