"""Fault harness (issue 16): faults injected into real processes, each scenario printing n/N
runs that ended correctly (every job terminal in the expected state, exactly one clip per
succeeded job, no lease left, no orphan file in MEDIA_ROOT nor, with S3 media storage, in the
bucket, no stuck row) and recovery times.

    .venv/bin/python benchmarks/faults.py --hung-ffmpeg --worker-kill --redis-restart [--n N]

Everything runs on 127.0.0.1: a scratch PostgreSQL database (created and dropped, like
scratch_stack.py), a private redis-server on a free port (never the shared one), Celery
workers and beat as real processes, the offline demo backend. Each scenario builds its own
stack; every loop and wait is bounded. Leases and the reaper are shortened (--lease-s,
--reaper-s, --stale-s) so a run takes minutes; the default-settings recovery time is measured
by tests/integration/test_recovery.py.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import fault_checks as checks  # noqa: E402
from benchmarks.fault_stack import Stack, build  # noqa: E402


def short_settings(args) -> dict[str, str]:
    return {
        "JOB_LEASE_S": str(args.lease_s),
        "JOB_HEARTBEAT_S": str(args.lease_s / 4),
        "REAPER_INTERVAL_S": str(args.reaper_s),
        "JOB_QUEUED_STALE_S": str(args.stale_s),
    }


def verdict(name: str, stack: Stack, job_ids: list[int], expect: set[str], extra: list[str] | None = None) -> bool:
    """Print n/N and every problem; True when all ended correctly."""
    bad = {}
    for job_id in job_ids:
        found = checks.job_problems(job_id, expect)
        if found:
            bad[job_id] = found
    orphans = checks.orphan_files(stack.media_root)
    stuck = checks.stuck_rows()
    ok = len(job_ids) - len(bad)
    in_bucket = sum(o.startswith("s3://") for o in orphans)
    where = f" ({in_bucket} in the media bucket)" if in_bucket else ""
    print(
        f"[{name}] {ok}/{len(job_ids)} jobs ended correctly; orphan files {len(orphans)}{where}; stuck rows {len(stuck)}"
    )
    for found in bad.values():
        for line in found:
            print(f"[{name}]   {line}")
    for line in orphans[:20]:
        print(f"[{name}]   orphan {line}")
    for line in stuck[:20]:
        print(f"[{name}]   stuck {line}")
    for line in extra or []:
        print(f"[{name}]   {line}")
    return not bad and not orphans and not stuck and not extra


def summary(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"median {statistics.median(values):.1f} s, max {max(values):.1f} s (n={len(values)})"


# --------------------------------------------------------------------------------------------
# (e) ffmpeg hanging


def hung_ffmpeg(args) -> bool:
    """A demo model whose ffmpeg (model param) hangs in the generate step, and one whose
    generate step uses the real ffmpeg while the media step's FFMPEG_BINARY hangs."""
    env = {
        **short_settings(args),
        "MEDIA_TRANSCODE_TIMEOUT_S": "3",
        "MEDIA_PROBE_TIMEOUT_S": "3",
        "JOB_MAX_ATTEMPTS": "2",
    }
    stack = build("hang", env)
    try:
        hang = stack.td.tmpdir / "hang-ffmpeg"
        hang.write_text("#!/bin/sh\nsleep 3599\n")
        hang.chmod(0o755)
        real = shutil.which("ffmpeg") or "ffmpeg"
        checks.demo_model("demo-hang-generate", ffmpeg_binary=str(hang), render_timeout_s=3)
        checks.demo_model("demo-hang-media", ffmpeg_binary=real)
        stack.start_beat()
        stack.worker(concurrency=2, env={"FFMPEG_BINARY": str(hang)})
        n = max(2, args.n or 4)
        ids = checks.submit("demo-hang-generate", n // 2) + checks.submit("demo-hang-media", n - n // 2)
        took = checks.wait_terminal(ids, timeout=args.timeout)
        time.sleep(1)
        left = checks.processes_running("sleep 3599") + checks.processes_running(str(hang))
        extra = [f"{len(left)} hung ffmpeg processes still running: {left}"] if left else []
        ok = verdict("hung-ffmpeg", stack, ids, {"failed"}, extra)
        from webapp.studio.models import GenerationJob

        codes = sorted(set(GenerationJob.objects.filter(pk__in=ids).values_list("error_code", flat=True)))
        print(f"[hung-ffmpeg] error codes {codes}; all terminal after {took and f'{took:.1f} s'}")
        return ok
    finally:
        stack.td.run()


# --------------------------------------------------------------------------------------------
# (a) worker SIGKILL in every job state

KILL_STATES = ("queued", "running", "processing")


def worker_kill(args) -> bool:
    """Run i: a job on a slow demo model; the only worker is SIGKILLed (its whole process group)
    at a random moment of the job's i-th target state (queued / running / processing, in turn);
    a new worker under a new name (no same-name release) and beat must finish the job."""
    stack = build("kill", short_settings(args))
    rng = random.Random(args.seed)
    try:
        checks.demo_model("demo-kill", latency_s=args.latency_s)
        stack.start_beat()
        current = stack.worker()
        n = args.n or 20
        ids, recoveries, killed_in = [], [], []
        for i in range(n):
            target = KILL_STATES[i % len(KILL_STATES)]
            job_id = checks.submit("demo-kill", 1, text=f"kill run {i}")[0]
            ids.append(job_id)
            deadline = time.monotonic() + 60
            while target != "queued" and checks.states([job_id])[job_id] not in (target, "succeeded"):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            time.sleep(rng.uniform(0, {"queued": 0.02, "running": args.latency_s, "processing": 0.4}[target]))
            killed_in.append(checks.states([job_id])[job_id])
            stack.kill_worker(current)
            killed_at = time.monotonic()
            current = stack.worker()
            took = checks.wait_terminal([job_id], timeout=args.timeout)
            recoveries.append(time.monotonic() - killed_at if took is not None else float("inf"))
            print(f"[worker-kill] run {i + 1}/{n}: killed in {killed_in[-1]}, terminal {recoveries[-1]:.1f} s later")
        ok = verdict("worker-kill", stack, ids, {"succeeded"})
        print(f"[worker-kill] killed in: { {s: killed_in.count(s) for s in sorted(set(killed_in))} }")
        print(f"[worker-kill] kill -> job terminal: {summary([r for r in recoveries if r != float('inf')])}")
        return ok
    finally:
        stack.td.run()


# --------------------------------------------------------------------------------------------
# (b) Redis shut down and restarted with jobs queued


def redis_restart(args) -> bool:
    """N jobs submitted to one worker; once a few finished, Redis is shut down (no persistence:
    every queued message is lost), kept down 5 s and restarted empty on the same port."""
    stack = build("redis", short_settings(args))
    try:
        checks.demo_model("demo-quick")
        stack.start_beat()
        stack.worker(concurrency=2)
        n = args.n or 100
        ids = checks.submit("demo-quick", n, text="redis restart")
        deadline = time.monotonic() + 60
        while sum(s == "succeeded" for s in checks.states(ids).values()) < min(5, n) and time.monotonic() < deadline:
            time.sleep(0.2)
        before = checks.states(ids)
        waiting = sum(s in ("queued", "running", "processing") for s in before.values())
        stack.stop_redis()
        time.sleep(5)
        stack.start_redis()
        print(f"[redis-restart] Redis down 5 s with {waiting} of {n} jobs not finished")
        took = checks.wait_terminal(ids, timeout=args.timeout)
        ok = verdict("redis-restart", stack, ids, {"succeeded"})
        from webapp.studio.models import GenerationJob

        resent = sum(GenerationJob.objects.filter(pk__in=ids).values_list("resend_count", flat=True))
        print(f"[redis-restart] restart -> all terminal: {took and f'{took:.1f} s'}; re-sends {resent}")
        return ok
    finally:
        stack.td.run()


# --------------------------------------------------------------------------------------------
# (g) vendor faults


def vendor_faults(args) -> bool:
    from benchmarks.fault_vendors import vendor_faults as run

    stack = build("vendors", {**short_settings(args), "JOB_MAX_ATTEMPTS": "3"})
    try:
        return run(args, stack, verdict)
    finally:
        stack.td.run()


# --------------------------------------------------------------------------------------------
# (c) database unreachable during voting


def db_outage(args) -> bool:
    from benchmarks.fault_outage import db_outage as run

    stack = build("db", {"LOG_LEVEL": "WARNING"})
    try:
        return run(args, stack)
    finally:
        stack.td.run()


# --------------------------------------------------------------------------------------------
# (d) disk full, (f) worker killed during an export


def disk_full(args) -> bool:
    from benchmarks.fault_media import disk_full as run

    stack = build("disk", {**short_settings(args), "JOB_MAX_ATTEMPTS": "5"})
    try:
        return run(args, stack, verdict)
    finally:
        stack.td.run()


def export_kill(args) -> bool:
    from benchmarks.fault_media import export_kill as run

    stack = build("export", {**short_settings(args), "EXPORT_TILE_HEIGHT": "90"})
    try:
        return run(args, stack, verdict)
    finally:
        stack.td.run()


SCENARIOS = {
    "hung_ffmpeg": hung_ffmpeg,
    "worker_kill": worker_kill,
    "redis_restart": redis_restart,
    "vendor_faults": vendor_faults,
    "db_outage": db_outage,
    "disk_full": disk_full,
    "export_kill": export_kill,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hung-ffmpeg", action="store_true", help="(e) ffmpeg hangs in either step")
    parser.add_argument("--worker-kill", action="store_true", help="(a) SIGKILL in every job state (20 runs)")
    parser.add_argument("--redis-restart", action="store_true", help="(b) Redis restarted with 100 jobs queued")
    parser.add_argument("--vendor-faults", action="store_true", help="(g) fault kinds x every adapter's fake")
    parser.add_argument("--db-outage", action="store_true", help="(c) PostgreSQL unreachable during voting")
    parser.add_argument("--disk-full", action="store_true", help="(d) MEDIA_ROOT full, then freed (needs root)")
    parser.add_argument("--export-kill", action="store_true", help="(f) worker SIGKILLed during an export")
    parser.add_argument("--outage-s", type=float, default=5)
    parser.add_argument("--kinds", type=int, default=0, help="vendor fault kinds to run (0: all)")
    parser.add_argument(
        "--vendor-kinds", default="", help="vendor fault kinds by name, comma-separated (e.g. lost_create_answer)"
    )
    parser.add_argument("--n", type=int, default=0, help="runs/jobs per scenario (0: the scenario's target)")
    parser.add_argument("--lease-s", type=float, default=8)
    parser.add_argument("--reaper-s", type=float, default=2)
    parser.add_argument("--stale-s", type=float, default=10)
    parser.add_argument("--latency-s", type=float, default=2.0, help="demo latency of the killed jobs")
    parser.add_argument("--timeout", type=float, default=300, help="longest wait for a recovery")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)
    chosen = [name for name in SCENARIOS if getattr(args, name)]
    if not chosen:
        parser.error("choose at least one scenario")
    args.n = min(args.n, 200)  # bounded whatever is asked
    if len(chosen) > 1:  # Django is set up once per process: one process per scenario
        flags = {f"--{name.replace('_', '-')}" for name in SCENARIOS}
        common = [a for a in (argv if argv is not None else sys.argv[1:]) if a not in flags]
        codes = [
            subprocess.run([sys.executable, __file__, f"--{name.replace('_', '-')}", *common]).returncode
            for name in chosen
        ]
        return 0 if not any(codes) else 1
    results = {}
    for name in chosen:
        started = time.monotonic()
        results[name] = SCENARIOS[name](args)
        print(f"[{name}] {'PASS' if results[name] else 'FAIL'} in {time.monotonic() - started:.0f} s", flush=True)
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
