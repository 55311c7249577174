"""(d) the media disk full, then freed; (f) a worker SIGKILLed during a side-by-side export."""

from __future__ import annotations

import random
import subprocess
import time

from benchmarks import fault_checks as checks

# ffmpeg that writes the start of its output (as a real one would), then hangs; a worker's version
# and encoder checks (`ffmpeg -hide_banner -version` / `-encoders`: an option last, no output) are
# answered at once by the real ffmpeg, writing nothing
# (it used to leave a file named '-version' in the working directory and wait 60 s). Every other
# call hangs exactly as before, so the kill still lands mid-render.
SLOW_FFMPEG = (
    '#!/bin/sh\nfor out; do :; done\ncase "$out" in -*) exec ffmpeg "$@" ;; esac\n'
    'echo partial > "$out"\nsleep 60\nexec ffmpeg "$@"\n'
)


def export_kill(args, stack, verdict) -> bool:
    """Run i: a prompt with two demo clips (made by a normal worker); its export is claimed by a
    media worker whose ffmpeg hangs mid-render; that worker is SIGKILLed at a random moment of
    the render; a normal worker (new name) and beat must finish the export."""
    from webapp.gallery.models import SideBySideExport
    from webapp.gallery.services import exports
    from webapp.studio.models import GenerationJob

    rng = random.Random(args.seed)
    slow = stack.td.tmpdir / "slow-ffmpeg"
    slow.write_text(SLOW_FFMPEG)
    slow.chmod(0o755)
    checks.demo_model("demo-left")
    checks.demo_model("demo-right", fps=8)
    stack.start_beat()
    n = args.n or 5
    job_ids, export_ids, recoveries, problems = [], [], [], []
    normal = stack.worker(concurrency=2)
    for i in range(n):
        ids = checks.submit(["demo-left", "demo-right"], 1, text=f"export run {i}")
        job_ids += ids
        if checks.wait_terminal(ids, timeout=args.timeout) is None:
            problems.append(f"run {i}: clips not made")
            continue
        stack.stop_worker(normal)
        doomed = stack.worker(queues="media", env={"FFMPEG_BINARY": str(slow)})
        jobs = list(GenerationJob.objects.filter(pk__in=ids).select_related("clip", "prompt").order_by("pk"))
        export, _created = exports.request_export(jobs[0].prompt, jobs)
        export_ids.append(export.pk)
        deadline = time.monotonic() + 60
        while SideBySideExport.objects.get(pk=export.pk).state != "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(rng.uniform(0.2, 2.0))
        stack.kill_worker(doomed)
        killed_at = time.monotonic()
        normal = stack.worker(concurrency=2)
        while time.monotonic() - killed_at < args.timeout:
            if SideBySideExport.objects.get(pk=export.pk).is_terminal:
                break
            time.sleep(0.5)
        done = SideBySideExport.objects.get(pk=export.pk)
        recoveries.append(time.monotonic() - killed_at)
        print(
            f"[export-kill] run {i + 1}/{n}: export {done.state} (attempts {done.attempts}) {recoveries[-1]:.1f} s after the kill"
        )
        if done.state != "succeeded" or not done.file:
            problems.append(f"export {done.pk} {done.state} {done.error_code}: {done.error_message[:120]}")
            rows = list(GenerationJob.objects.filter(prompt=done.prompt).values_list("pk", "state", "clip__public_id"))
            problems.append(f"  its clips {done.clips}; the prompt's jobs {rows}")
    ok_exports = n - len(problems)
    print(f"[export-kill] {ok_exports}/{n} exports of a killed worker finished")
    for line in problems:
        print(f"[export-kill]   {line}")
    time.sleep(args.reaper_s * 2)  # beat's reaper sweeps the dead worker's scratch
    left = [p for p in stack.work_dir.rglob("*") if p.is_file()]
    extra = [f"{len(left)} scratch files left: {left[:5]}"] if left else []
    print(
        f"[export-kill] kill -> export finished: median {sorted(recoveries)[len(recoveries) // 2]:.1f} s, max {max(recoveries):.1f} s"
    )
    return verdict("export-kill", stack, job_ids, {"succeeded"}, extra) and not problems


def disk_full(args, stack, verdict) -> bool:
    """MEDIA_ROOT on a 16 MiB tmpfs filled to ~16 KiB free (needs root: skipped when mount is
    refused); N jobs run into the full disk; the disk is freed once each job has hit it (or
    after 60 s), and every job must then succeed with no partial file left."""
    from webapp.studio.models import GenerationJob

    mount = stack.media_root
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        print(f"[disk-full] SKIPPED: cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
        return True
    try:
        filler = mount / "filler"
        filler.write_bytes(b"\0" * (16 * 1024 * 1024 - 16 * 1024))
        checks.demo_model("demo-disk")
        stack.start_beat()
        stack.worker(concurrency=2)
        n = args.n or 5
        ids = checks.submit("demo-disk", n, text="disk full")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            hit = GenerationJob.objects.filter(pk__in=ids, error_code="storage_full").count()
            if hit >= n:
                break
            time.sleep(0.5)
        codes = sorted(set(GenerationJob.objects.filter(pk__in=ids).values_list("error_code", flat=True)))
        partials = [p.name for p in mount.rglob("*") if p.is_file() and p.name != "filler"]
        print(
            f"[disk-full] {hit}/{n} jobs saw storage_full while full (codes {codes}); files other than the filler then: {partials}"
        )
        filler.unlink()
        took = checks.wait_terminal(ids, timeout=args.timeout)
        print(f"[disk-full] disk freed -> all terminal: {took and f'{took:.1f} s'}")
        return verdict("disk-full", stack, ids, {"succeeded"})
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
