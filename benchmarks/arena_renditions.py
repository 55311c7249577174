"""Cost of a battle's renditions through the arena worker's step, against the same ffmpeg
commands run directly.

Run: .venv/bin/python benchmarks/arena_renditions.py [--runs 5] [--short-side 540] [--fps 30]

Issue 11's target: making the arena renditions of a prompt costs no more than 1.2x the same
ffmpeg commands run directly.

* Embedded defaults in a temp DATA_DIR (SQLite, no services). One prompt (4 s, 16:9) made by
  two demo models through the real generate and media steps, so the sources are real clips of
  different sizes and frame rates.
* pipeline: arena/services/renditions.render() for a new battle of those two clips, i.e. what
  the arena worker does: claim the battle (lease), copy each source out of storage, probe it,
  run ffmpeg, pad every frame to the shape's size (equalize), probe the result, store it under
  an opaque name, mark the battle ready.
* baseline: the same two ffmpeg argv (arena_rendition_argv with the same shape and seed),
  run with subprocess.run straight from the stored sources to a temp file. Nothing else.
* Median of --runs interleaved runs after one warm-up of each; wall time and the CPU time of
  this process and its children.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

TARGET_RATIO = 1.2


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--short-side", type=int, default=540, help="ARENA_CANVAS_SHORT_SIDE")
    parser.add_argument("--fps", type=int, default=30, help="ARENA_FPS")
    return parser.parse_args()


def cpu_seconds() -> float:
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def timed(work) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    work()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def main() -> int:
    args = parse_args()
    warnings.filterwarnings("ignore", message="No directory at")
    data_dir = tempfile.mkdtemp(prefix="screentest-arenabench-")
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="webapp.settings",
        DATA_DIR=data_dir,
        ARENA_CANVAS_SHORT_SIDE=str(args.short_side),
        ARENA_FPS=str(args.fps),
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from webapp.arena.models import Battle
    from webapp.arena.services import battles, renditions
    from webapp.catalog.models import VideoModel
    from webapp.catalog.services import load_catalog
    from webapp.core.media_tools import media_tools
    from webapp.studio.models import Clip, Prompt
    from webapp.studio.services import pipeline
    from webapp.studio.services.submission import PromptInput, submit_prompt
    from workers import media

    try:
        call_command("migrate", verbosity=0)
        load_catalog()
        slugs = list(VideoModel.objects.filter(backend_key="demo").order_by("slug").values_list("slug", flat=True))[:2]
        prompt = submit_prompt(PromptInput(text="a lighthouse in a storm at night", duration_s=4, seed=3, models=slugs))
        Prompt.objects.filter(pk=prompt.pk).update(pool="official")
        for job in prompt.jobs.all():
            pipeline.generate_step(job.pk, owner="bench pid 1")
            pipeline.media_step(job.pk, owner="bench pid 1")
        left, right = Clip.objects.filter(job__prompt=prompt).order_by("pk")
        shape = renditions.shape_for(prompt)
        tools = media_tools()
        sources = [Path(settings.MEDIA_ROOT) / (c.original.name or c.web.name) for c in (left, right)]
        infos = [media.probe(s, tools) for s in sources]
        print(
            f"sources: {[f'{i.width}x{i.height} {i.fps:g} fps {i.duration_s:.1f} s' for i in infos]}; "
            f"shape {shape.width}x{shape.height} {shape.fps} fps {shape.frames} frames"
        )
        scratch = Path(tempfile.mkdtemp(prefix="direct-", dir=data_dir))

        def through_pipeline() -> None:
            battle = Battle.objects.create(
                prompt=prompt,
                left=left,
                right=right,
                pool="official",
                pair_key=f"{battles.pair_key(left.pk, right.pk)}:{time.monotonic_ns()}",
                voter_key=f"bench-{time.monotonic_ns()}",
            )
            renditions.render(battle.pk, owner="bench pid 1")
            battle.refresh_from_db()
            assert battle.state == "ready", (battle.state, battle.error_code)

        def direct() -> None:
            for n, (source, info) in enumerate(zip(sources, infos)):
                argv = media.arena_rendition_argv(
                    source,
                    scratch / f"out{n}.mp4",
                    shape=shape,
                    seed=1234,
                    video_stream=info.stream_index,
                    has_audio=info.has_audio,
                    tools=tools,
                )
                subprocess.run(argv, check=True, capture_output=True, timeout=300)

        through_pipeline(), direct()  # warm-up
        runs: dict[str, list[tuple[float, float]]] = {"pipeline": [], "direct": []}
        for _ in range(args.runs):
            runs["pipeline"].append(timed(through_pipeline))
            runs["direct"].append(timed(direct))
        wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
        cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
        print(f"pipeline (renditions.render, both sides): wall {wall['pipeline']:.3f} s, cpu {cpu['pipeline']:.3f} s")
        print(f"direct (the same two ffmpeg argv):        wall {wall['direct']:.3f} s, cpu {cpu['direct']:.3f} s")
        ratio = wall["pipeline"] / wall["direct"]
        print(
            f"ratio pipeline/direct: wall {ratio:.3f}, cpu {cpu['pipeline'] / cpu['direct']:.3f} "
            f"(median of {args.runs}; target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'})"
        )
        return 0
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
