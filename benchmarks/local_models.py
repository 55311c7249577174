"""GPU check: every local (backend "diffusers") catalog entry whose weights are on this machine,
generated once cold and once warm, as a table: seconds per clip, peak GPU memory, and the
clip's measurements (ffprobe through workers.media: size, fps, frames, duration, bytes).

Run (a venv with the `local` extra: requirements/test.lock on CPU, gpu.lock on a GPU host):
    SCREENTEST_LOCAL_MODELS_DIR=/models python benchmarks/local_models.py [--seconds 5] [--tiny]

Entries whose weights are missing are listed as skipped with the places looked; without a GPU
the real models are skipped too (minutes per step on a CPU) unless --cpu-too. --tiny adds the
tiny Wan pipeline of tests/tiny_diffusers.py (random weights, CPU-sized): it checks the whole
path and the numbers' plumbing, not a model's speed. Nothing is downloaded (HF_HUB_OFFLINE=1).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from workers.backends import diffusers_local  # noqa: E402
from workers.backends.base import GenerationRequest, PermanentError  # noqa: E402
from workers.media.probing import probe  # noqa: E402

CATALOG = ROOT / "webapp" / "catalog" / "data" / "catalog.json"
PROMPT = "a red fox runs across a snowy field at sunrise, slow tracking shot"


def local_entries() -> list[dict]:
    models = json.loads(CATALOG.read_text())["models"]
    return [m for m in models if m["backend_key"] == "diffusers"]


def run_one(slug: str, params: dict, seconds: float, workdir: Path) -> dict:
    aspect, (width, height) = next(iter(params["sizes"].items()))
    request = GenerationRequest(
        prompt=PROMPT,
        negative_prompt="blurry, low quality",
        duration_s=min(seconds, params["max_duration_s"]),
        width=width,
        height=height,
        aspect_ratio=aspect,
        seed=1,
        params=params,
    )
    backend = diffusers_local.DiffusersBackend()
    diffusers_local.evict_warm()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    times = []
    for run in ("cold", "warm"):
        started = time.perf_counter()
        result = backend.generate(
            request, workdir=workdir / f"{slug}-{run}", resume_vendor_job_id=None, on_submitted=lambda _id: None
        )
        times.append(time.perf_counter() - started)
    info = probe(result.video_path)
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    diffusers_local.evict_warm()
    return {
        "slug": slug,
        "cold_s": times[0],
        "warm_s": times[1],
        "peak_gib": peak,
        "size": f"{info.width}x{info.height}",
        "fps": info.fps,
        "frames": info.frame_count,
        "duration_s": info.duration_s,
        "kib": info.bytes / 1024,
        "mode": result.vendor_metadata["memory_mode"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="clip length asked for (capped per model)")
    parser.add_argument("--tiny", action="store_true", help="also run the tiny test pipeline (CPU-sized)")
    parser.add_argument("--cpu-too", action="store_true", help="run real models even without a GPU")
    args = parser.parse_args()

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    print(f"torch {torch.__version__}; device: {gpu or 'CPU only (no CUDA device)'}; threads {torch.get_num_threads()}")
    one, five, fifteen = os.getloadavg()
    print(f"load average {one:.2f} {five:.2f} {fifteen:.2f} (a shared machine: wall times are noisy)")
    rows, skipped = [], []
    with tempfile.TemporaryDirectory(prefix="local-models-") as tmp:
        workdir = Path(tmp)
        for entry in local_entries():
            params = entry["backend_params"]
            try:
                diffusers_local.resolve_model_dir(diffusers_local.parse_params(params))
            except PermanentError as exc:
                skipped.append((entry["slug"], f"weights not on this machine: {exc}"))
                continue
            if gpu is None and not args.cpu_too:
                skipped.append((entry["slug"], "weights present but no GPU (pass --cpu-too to run on the CPU)"))
                continue
            rows.append(run_one(entry["slug"], params, args.seconds, workdir))
        if args.tiny:
            from tests.tiny_diffusers import TINY_PARAMS, save_tiny_wan

            model_dir = save_tiny_wan(workdir / "tiny-wan")
            rows.append(run_one("tiny-wan (test)", {**TINY_PARAMS, "model_path": str(model_dir)}, 1.0, workdir))

    header = f"{'model':<18} {'cold s':>8} {'warm s':>8} {'peak GiB':>9} {'size':>9} {'fps':>5} {'frames':>6} {'dur s':>6} {'KiB':>7} mode"
    print(header)
    for r in rows:
        peak = "n/a" if r["peak_gib"] is None else f"{r['peak_gib']:.2f}"
        print(
            f"{r['slug']:<18} {r['cold_s']:>8.2f} {r['warm_s']:>8.2f} {peak:>9} {r['size']:>9} {r['fps']:>5.1f} "
            f"{r['frames'] if r['frames'] is not None else '?':>6} {r['duration_s']:>6.2f} {r['kib']:>7.1f} {r['mode']}"
        )
    for slug, why in skipped:
        print(f"skipped {slug}: {why}")
    if not rows:
        print("nothing ran: no local model's weights on this machine (and --tiny not given)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
