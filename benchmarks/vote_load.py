"""Load test of the vote endpoint (POST /api/v1/votes) on gunicorn + PostgreSQL + Redis, with a
bare one-INSERT Django endpoint on the same stack as the baseline.

Run: .venv/bin/python benchmarks/vote_load.py [--seconds 15] [--clients 32]
     (other knobs: --rate R (open loop), --workers W --threads T, --warmup S,
      --client-mode threads|async, --profile, --no-baseline, and server experiments
      --prepared-statements, --no-health-checks, --db-pool, --app; --help lists them all)

Issue target: >= 300 votes/s with p99 <= 100 ms under 32 concurrent clients on this machine,
every acknowledged vote stored exactly once, and the ratio to a bare Django endpoint doing one
INSERT on the same stack.

What it does:
* Scratch PostgreSQL database `screentest_votebench_<pid>` on 127.0.0.1:5432 (created through
  the maintenance database, dropped at the end), Redis db 0 with the key prefix
  `votebench-<pid>` (cache and broker; every key under it is deleted at the end), a temp
  DATA_DIR. The environment is set for this process and for the gunicorn it starts.
* Data: the catalog (load_catalog), prompts with one succeeded job + Clip row per model (no
  files: voting never opens them), one real Django session per client (the configured
  SESSION_ENGINE, cached_db with Redis), that session's voter key from voters.voter_for
  itself, and for each client enough Battle rows (distinct pair_key per voter) with signed
  tokens (battles.sign) that each battle is voted exactly once by design.
* gunicorn webapp.wsgi:application on a free 127.0.0.1 port, gthread workers (default 5
  workers x 1 thread, gunicorn's 2 x cores + 1: processes, not threads, because threads of
  one worker queue behind the GIL at every socket call - at 300 votes/s, 2 x 4 gave p99
  200-500 ms on the same machine; gthread and not sync so that clients keep their
  connections alive, as they would through nginx), its own process group, no control socket (gunicorn 27 would otherwise
  share ~/.gunicorn/gunicorn.ctl with every other gunicorn on the machine);
  DJANGO_SETTINGS_MODULE=benchmarks.bench_settings for the server (= webapp.settings with
  ROOT_URLCONF=benchmarks.bare_insert_urls: product URLs + the bare `bench/insert`), so both
  endpoints run in the same processes with the same middleware, one after the other.
* Load: --clients concurrent clients, by default threads with one keep-alive socket each
  sending pre-formatted HTTP/1.1 requests (0.15 ms of client CPU per request; httpx.Client
  took 1.5 ms, a quarter of the whole stack's CPU on a machine the server shares; --client-mode
  threads|async keeps httpx), each with its own sessionid cookie. Closed loop by default (next request when the last is
  answered; then mean latency = clients / throughput), or open loop with --rate (requests
  scheduled at a fixed total rate, latency counted from the scheduled time). --warmup seconds
  are excluded, then --seconds measured: throughput = 201s completed in the window, latency
  percentiles over the requests started (scheduled) in it, measured on the client (so they
  include the client's own scheduling delay). CPU use of the client, gunicorn, PostgreSQL and
  Redis comes from /proc, with the machine's total: other work on a shared machine shows up
  as "other processes", and CPU per request is the number least disturbed by it.
* Rate limits: VOTE_RATE_PER_MINUTE=1000000 (the per-voter Redis counter still runs, so its
  cost is measured) and VOTE_RATE_PER_IP_PER_MINUTE=0 (off: every client is 127.0.0.1).
  The rate limit is not what is measured here.
* Checks (exit status 1 when one fails; missing performance targets never fail the run):
  Vote rows == acknowledged 201s (every acknowledged battle has exactly one vote, no vote for
  a battle nobody sent), no duplicate per battle, and a replay of 200 already-voted battles
  answers 200 with replay=true and stores nothing; the per-pair tallies that triggers keep
  (arena_votetally) still equal a GROUP BY over the stored votes. Any 4xx/5xx answer to a
  valid vote fails.
* Teardown on every exit path (exceptions, Ctrl+C, SIGTERM): gunicorn killed by process
  group (also given PDEATHSIG), scratch database dropped, Redis keys deleted, temp dir
  removed. Only a SIGKILL of this script can leave the database behind.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import ctypes
import gc
import io
import itertools
import json
import math
import os
import pstats
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402

MAX_SECONDS = 60
MAX_CLIENTS = 256
# Battles made per client (closed loop): enough for this many votes/s over warm-up + window,
# times UNFAIRNESS, because one client can get several times its fair share (connections stick
# to the gunicorn worker that accepted them, and workers end up with unequal numbers of them).
# A client that runs out stops and the run says so.
BATTLE_RATE_CEILING = 600
UNFAIRNESS = 4
REPLAYS = 200
PG_DSN = "host=127.0.0.1 port=5432 user=postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
PROTECTED_DATABASES = {"test", "root", "postgres", "template0", "template1"}
JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
CLIENT_MODES = {
    "raw": "one keep-alive socket per thread, pre-formatted HTTP/1.1 requests",
    "threads": "one httpx.Client per thread",
    "async": "one httpx.AsyncClient per task",
}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------
# Teardown


class Teardown:
    """Everything this run created, undone once, whatever happened."""

    def __init__(self, dbname: str, prefix: str, tmpdir: Path):
        self.dbname, self.prefix, self.tmpdir = dbname, prefix, tmpdir
        self.db_created = False
        self.servers: list[subprocess.Popen] = []
        self.done = False

    def kill_servers(self) -> None:
        for proc in self.servers:
            stop_process_group(proc)
        self.servers.clear()

    def run(self) -> None:
        if self.done:
            return
        self.done = True
        old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)  # finish cleaning even on a 2nd Ctrl+C
        old_term = signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            steps = [
                ("gunicorn", self.kill_servers),
                ("django connections", close_django_connections),
                ("scratch database", self.drop_database),
                ("redis keys", self.delete_redis_keys),
                ("temp dir", lambda: shutil.rmtree(self.tmpdir, ignore_errors=True)),
            ]
            for name, step in steps:
                try:
                    step()
                except Exception as exc:  # keep going: the other steps still have to run
                    print(f"teardown: {name} failed: {exc!r}", file=sys.stderr)
        finally:
            signal.signal(signal.SIGINT, old_int)
            signal.signal(signal.SIGTERM, old_term)

    def drop_database(self) -> None:
        if not self.db_created:
            return
        import psycopg

        assert_scratch_name(self.dbname)
        with psycopg.connect(f"{PG_DSN} dbname=postgres", autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
        self.db_created = False
        print(f"teardown: dropped database {self.dbname}")

    def delete_redis_keys(self) -> None:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_timeout=10)
        deleted = 0
        batch: list[bytes] = []
        for n, key in enumerate(client.scan_iter(match=f"{self.prefix}*", count=1000)):
            if n >= 2_000_000:  # bounded; far more than a run writes
                break
            batch.append(key)
            if len(batch) >= 1000:
                deleted += client.delete(*batch)
                batch.clear()
        if batch:
            deleted += client.delete(*batch)
        client.close()
        print(f"teardown: deleted {deleted} redis keys under {self.prefix}*")


def assert_scratch_name(dbname: str) -> None:
    if dbname in PROTECTED_DATABASES or not dbname.startswith("screentest_votebench_"):
        raise RuntimeError(f"refusing to touch database {dbname!r}")


def close_django_connections() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def stop_process_group(proc: subprocess.Popen) -> None:
    pgid = proc.pid  # started with start_new_session: the group is ours alone
    if proc.poll() is None:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    for _ in range(50):  # workers may outlive the master for a moment
        if not group_pids(pgid):
            break
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    if proc.poll() is None:
        proc.wait(timeout=5)


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = read_stat(int(entry))
            if stat and stat[1] == pgid:
                pids.append(int(entry))
    return pids


# --------------------------------------------------------------------------------------------
# CPU accounting from /proc


def read_stat(pid: int) -> tuple[str, int, int] | None:
    """(comm, process group, utime + stime ticks) of a process, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return comm, int(fields[2]), int(fields[11]) + int(fields[12])


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def machine_ticks() -> dict[str, int]:
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return dict(zip(names, fields))


GROUPS = ("client", "gunicorn", "postgres", "redis")


def cpu_snapshot(server_pgid: int | None, dbname: str) -> dict:
    """CPU ticks of this run's processes: the client (this process), gunicorn (its process
    group), postgres (backends of the scratch database + the server's background processes:
    WAL writer, checkpointer, ...), redis. Backends of other databases are other people's."""
    groups: dict[int, tuple[str, int]] = {}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        stat = read_stat(pid)
        if stat is None:
            continue
        comm, pgrp, ticks = stat
        if pid == me:
            group = "client"
        elif server_pgid is not None and pgrp == server_pgid:
            group = "gunicorn"
        elif comm.startswith("postgres"):
            line = cmdline(pid)
            # a backend reads "postgres: [15/main: ]user dbname host(port) state"
            words = line.replace("postgres: ", "", 1).split()
            is_backend = any(w.endswith(")") and "(" in w or w == "[local]" for w in words)
            if f" {dbname} " in line:
                group = "postgres"
            elif is_backend:
                continue
            else:
                group = "postgres"
        elif comm.startswith("redis-server"):
            group = "redis"
        else:
            continue
        groups[pid] = (group, ticks)
    return {"t": time.perf_counter(), "procs": groups, "machine": machine_ticks()}


def cpu_report(before: dict, after: dict) -> dict:
    """Cores used per group over the interval, and the machine's view of the same interval."""
    wall = after["t"] - before["t"]
    used: Counter = Counter()
    for pid, (group, ticks) in after["procs"].items():
        start = before["procs"].get(pid, (group, 0))[1]
        used[group] += max(0, ticks - start)
    cores = {g: used[g] / CLK_TCK / wall for g in GROUPS}
    delta = {k: (after["machine"][k] - before["machine"][k]) / CLK_TCK / wall for k in after["machine"]}
    total = sum(delta.values())
    busy = total - delta["idle"] - delta["iowait"]
    return {
        "cores": cores,
        "busy": busy,
        "total": total,
        "irq": delta["irq"] + delta["softirq"],
        "steal": delta["steal"],
    }


def machine_busy(seconds: float = 1.0) -> tuple[float, float]:
    before, t0 = machine_ticks(), time.perf_counter()
    time.sleep(seconds)
    after, wall = machine_ticks(), time.perf_counter() - t0
    delta = {k: (after[k] - before[k]) / CLK_TCK / wall for k in after}
    return sum(delta.values()) - delta["idle"] - delta["iowait"], sum(delta.values())


def format_cpu(cpu: dict, ok_per_s: float) -> list[str]:
    cores = cpu["cores"]
    ncpu = max(1, round(cpu["total"]))
    ours = sum(cores.values())
    parts = "  ".join(f"{g} {c:.2f}" for g, c in cores.items())
    lines = [
        f"  cpu (cores of {ncpu}): {parts}  | machine busy {cpu['busy']:.2f} = ours {ours:.2f} + irq/softirq "
        f"{cpu['irq']:.2f} + steal {cpu['steal']:.2f} + other processes "
        f"{max(0.0, cpu['busy'] - ours - cpu['irq'] - cpu['steal']):.2f}"
    ]
    if ok_per_s > 0:
        per = sum(cores.values()) + cpu["irq"]
        lines.append(
            "  cpu per 201: "
            + ", ".join(f"{g} {1000 * c / ok_per_s:.2f} ms" for g, c in cores.items())
            + f"; all of this run incl. irq {1000 * per / ok_per_s:.2f} ms -> idle-machine estimate "
            f"~{ok_per_s * ncpu / per:.0f}/s if the run had all {ncpu} cores"
        )
    return lines


def cpu_per_ok(cpu: dict, ok_per_s: float) -> float:
    return 1000 * (sum(cpu["cores"].values()) + cpu["irq"]) / ok_per_s if ok_per_s > 0 else float("nan")


# --------------------------------------------------------------------------------------------
# Setup


def make_env(args, dbname: str, prefix: str, tmpdir: Path) -> dict[str, str]:
    (tmpdir / "static").mkdir(parents=True, exist_ok=True)
    (tmpdir / "media").mkdir(parents=True, exist_ok=True)
    return {
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{dbname}",
        "REDIS_URL": REDIS_URL,
        "BROKER_KEY_PREFIX": prefix,
        "CACHE_KEY_PREFIX": prefix,
        "SECRET_KEY": "votebench-fixed-secret-key-4b1d9e0c7a5f43e2a8d6c1b0e9f7a3d5",
        "VOTE_RATE_PER_MINUTE": "1000000",
        "VOTE_RATE_PER_IP_PER_MINUTE": "0",
        "TRUSTED_PROXIES": "",
        "DEBUG": "false",
        "DATA_DIR": str(tmpdir),
        "STATIC_ROOT": str(tmpdir / "static"),
        "MEDIA_ROOT": str(tmpdir / "media"),
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


def create_database(td: Teardown) -> None:
    import psycopg

    assert_scratch_name(td.dbname)
    # CREATE DATABASE has to be sent from some other database: the maintenance db `postgres`
    # is only connected to for these two statements, nothing in it is read or written.
    with psycopg.connect(f"{PG_DSN} dbname=postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{td.dbname}"')
    td.db_created = True


def create_data(n_clients: int, per_client: int, seed: int):
    """Catalog, prompts/jobs/clips, one session + voter per client and per_client battles each.
    Returns (session keys, [[(battle pk, body bytes), ...] per client], voter keys)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from django.utils import timezone

    from webapp.arena.models import Battle, BattleState
    from webapp.arena.services import battles as battles_mod
    from webapp.arena.services.voters import VERIFIED, current_voter
    from webapp.catalog.models import VideoModel
    from webapp.catalog.services import load_catalog
    from webapp.studio.models import Clip, GenerationJob, JobState, Prompt

    rng = random.Random(seed)
    load_catalog()
    models = list(VideoModel.objects.order_by("slug"))
    if len(models) < 2:
        raise RuntimeError("the catalog has fewer than 2 models: no battles possible")
    pairs = list(itertools.combinations(range(len(models)), 2))
    n_prompts = math.ceil(per_client / len(pairs))
    now = timezone.now()
    prompts = Prompt.objects.bulk_create(
        [
            Prompt(
                text=f"votebench prompt {n}",
                seed=n,
                duration_s=2,
                aspect_ratio="16:9",
                source=Prompt.Source.SUITE,
                pool=Prompt.Pool.OFFICIAL,
                category="animals",
            )
            for n in range(n_prompts)
        ],
        batch_size=2000,
    )
    jobs = GenerationJob.objects.bulk_create(
        [
            GenerationJob(prompt=p, model=m, state=JobState.SUCCEEDED, attempts=1, finished_at=now)
            for p in prompts
            for m in models
        ],
        batch_size=2000,
    )
    clips = Clip.objects.bulk_create(
        [
            Clip(
                job=j,
                original=f"originals/votebench-{j.pk}.mp4",
                web=f"clips/votebench-{j.pk}.mp4",
                poster=f"posters/votebench-{j.pk}.jpg",
                sha256_original="0" * 64,
                sha256_web="0" * 64,
                duration_s=2.0,
                width=160,
                height=90,
                fps=24,
                codec="h264",
                bytes=1,
                original_bytes=1,
            )
            for j in jobs
        ],
        batch_size=2000,
    )
    grid = [clips[i * len(models) : (i + 1) * len(models)] for i in range(n_prompts)]
    slots = [(p, a, b) for p in range(n_prompts) for a, b in pairs][:per_client]

    store_cls = import_module(settings.SESSION_ENGINE).SessionStore
    watched_from = now - timedelta(hours=1)
    factory = RequestFactory()
    sessions, voter_keys, rows = [], [], []
    for c in range(n_clients):
        store = store_cls()
        store[VERIFIED] = True  # the session of a browser that passed the entry check
        store.create()
        request = factory.post("/api/v1/votes", REMOTE_ADDR="127.0.0.1")
        request.session = store_cls(store.session_key)  # as SessionMiddleware would from the cookie
        request.user = AnonymousUser()
        voter = current_voter(request)  # the product's own derivation of the voter key
        assert voter is not None
        sessions.append(store.session_key)
        voter_keys.append(voter.key)
        offset = c * 7 % len(slots)  # clients start at different prompts
        for p, a, b in slots[offset:] + slots[:offset]:
            left, right = grid[p][a], grid[p][b]
            if rng.random() < 0.5:
                left, right = right, left
            rows.append(
                Battle(
                    prompt=prompts[p],
                    left=left,
                    right=right,
                    pool=Prompt.Pool.OFFICIAL,
                    pair_key=battles_mod.pair_key(left.pk, right.pk),
                    voter_key=voter.key,
                    # rendered, served and watched through: what the vote path checks
                    state=BattleState.READY,
                    duration_s=2.0,
                    served_at=watched_from,
                    left_fetched_at=watched_from,
                    right_fetched_at=watched_from,
                )
            )
    made = Battle.objects.bulk_create(rows, batch_size=2000)
    choices = ["left", "right", "tie", "bothbad"]
    per_client_battles = []
    for c in range(n_clients):
        mine = made[c * per_client : (c + 1) * per_client]
        per_client_battles.append(
            [
                (
                    b.pk,
                    json.dumps(
                        {
                            "token": battles_mod.sign(b),
                            "choice": rng.choice(choices),
                            "watched_left_s": 2.0,
                            "watched_right_s": 2.0,
                        }
                    ).encode(),
                )
                for b in mine
            ]
        )
    return sessions, per_client_battles, voter_keys, len(models), n_prompts


# --------------------------------------------------------------------------------------------
# gunicorn


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def start_gunicorn(args, env: dict, td: Teardown, log_path: Path) -> tuple[subprocess.Popen, str, list[str]]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        args.app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        args.worker_class,
        "--chdir",
        str(REPO_ROOT),
        "--no-control-socket",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--keep-alive",
        "5",
        "--log-level",
        "warning",
        "--error-logfile",
        str(log_path),
    ]
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    log.close()
    td.servers.append(proc)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=base, timeout=2, trust_env=False) as probe:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({proc.returncode}):\n{tail(log_path)}")
            try:
                if probe.get("/api/v1/votes").status_code == 405:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 60 s:\n{tail(log_path)}")
            time.sleep(0.2)
    # every worker booted (workers import Django lazily on their first request: warm-up covers it)
    for _ in range(150):
        if len(group_pids(proc.pid)) >= args.workers + 1:
            break
        time.sleep(0.2)
    return proc, base, ["gunicorn", *cmd[3:]]


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------
# Load generator


class Phase:
    """Timeline of one load run. With rate > 0 (open loop) client i of n sends its k-th
    request at begin + (k + i/n) * n/rate, or at once when it is behind; latency is then
    counted from that scheduled time (no coordinated omission)."""

    def __init__(self, warmup: float, seconds: float, rate: float = 0.0, clients: int = 1):
        self.begin = time.perf_counter() + 0.3
        self.warm_end = self.begin + warmup
        self.end = self.warm_end + seconds
        self.interval = clients / rate if rate > 0 else 0.0
        self.clients = clients

    def start_time(self, i: int, k: int) -> tuple[float, float]:
        """(when to send, t0 for the latency) of client i's k-th request."""
        now = time.perf_counter()
        if not self.interval:
            return now, now
        scheduled = self.begin + (k + i / self.clients) * self.interval
        return max(now, scheduled), scheduled


def client_kwargs(base: str, cookie_name: str, session_key: str, timeout: float) -> dict:
    return dict(
        base_url=base,
        cookies={cookie_name: session_key},
        timeout=timeout,
        trust_env=False,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


def run_load(
    mode: str,
    base: str,
    path: str,
    cookie_name: str,
    sessions: list[str],
    bodies: list,
    phase: Phase,
    timeout: float,
    sampler,
) -> tuple[list[list[tuple]], dict, list[bool], tuple]:
    """bodies[i] is client i's list of (battle pk, body). Returns per-client records
    (t_start, latency_s, status, battle pk), samples of non-201 answers, exhausted flags and
    the CPU use over the window."""
    if mode in ("raw", "threads"):
        client_class = RawHTTPClient if mode == "raw" else HttpxClient
        return _run_threads(client_class, base, path, cookie_name, sessions, bodies, phase, timeout, sampler)
    return asyncio.run(_run_async(base, path, cookie_name, sessions, bodies, phase, timeout, sampler))


def _record_error(samples: dict, status, text: str) -> None:
    if len(samples.setdefault(status, [])) < 3:
        samples[status].append(text[:300])


class HttpxClient:
    """One httpx.Client with the session cookie and a single keep-alive connection."""

    errors = (httpx.HTTPError,)

    def __init__(self, base: str, cookie_name: str, session_key: str, timeout: float):
        self.client = httpx.Client(**client_kwargs(base, cookie_name, session_key, timeout))

    def post(self, path: str, body: bytes) -> tuple[int, str]:
        response = self.client.post(path, content=body, headers=JSON_HEADERS)
        return response.status_code, response.text

    def close(self) -> None:
        self.client.close()


class RawHTTPClient:
    """Keep-alive HTTP/1.1 over one socket, requests pre-formatted as bytes: the load generator
    shares the machine's two cores with the server, and httpx spends ~1.5 ms of CPU per request
    here (a quarter of the whole stack's), this ~0.1 ms. Reads Content-Length bodies only (what
    Django answers with); anything else raises, and the caller counts a transport error."""

    def __init__(self, base: str, cookie_name: str, session_key: str, timeout: float):
        host_port = base.split("://", 1)[1]
        host, port = host_port.rsplit(":", 1)
        self.address, self.timeout = (host, int(port)), timeout
        self.head = (
            f"Host: {host_port}\r\nCookie: {cookie_name}={session_key}\r\n"
            f"Content-Type: application/json\r\nAccept: application/json\r\n"
        ).encode()
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    errors = (OSError, ValueError, KeyError, IndexError)

    def post(self, path: str, body: bytes) -> tuple[int, str]:
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock.sendall(
                b"POST "
                + path.encode()
                + b" HTTP/1.1\r\n"
                + self.head
                + b"Content-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            while b"\r\n\r\n" not in self.buffer:
                self._read()
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            headers = dict(line.split(b":", 1) for line in lines[1:] if b":" in line)
            length = int({k.strip().lower(): v for k, v in headers.items()}[b"content-length"])
            while len(rest) < length:
                rest += self._read(into_buffer=False)
            self.buffer = rest[length:]
            return status, rest[:length].decode(errors="replace")
        except BaseException:
            self.close()
            raise

    def _read(self, into_buffer: bool = True) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        if into_buffer:
            self.buffer += chunk
        return chunk


def _run_threads(client_class, base, path, cookie_name, sessions, bodies, phase, timeout, sampler):
    """One thread per client, each with its own ``client_class`` connection."""
    n = len(sessions)
    records: list[list[tuple]] = [[] for _ in range(n)]
    samples: dict = {}
    exhausted = [False] * n
    lock = threading.Lock()

    def worker(i: int) -> None:
        rec = records[i]
        client = client_class(base, cookie_name, sessions[i], timeout)
        delay = phase.begin - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            for k, (pk, body) in enumerate(bodies[i]):
                send_at, t0 = phase.start_time(i, k)
                if send_at >= phase.end:  # also stops an open-loop client that fell behind
                    break
                delay = send_at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                try:
                    status, text = client.post(path, body)
                    if status != 201:
                        with lock:
                            _record_error(samples, status, text)
                except client_class.errors as exc:
                    status = type(exc).__name__
                    with lock:
                        _record_error(samples, status, repr(exc))
                done = time.perf_counter()
                rec.append((t0, done - t0, status, pk, done))
            else:
                exhausted[i] = True
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True, name=f"client-{i}") for i in range(n)]
    for t in threads:
        t.start()
    cpu = sampler(phase)
    for t in threads:
        t.join(timeout=max(1.0, phase.end - time.perf_counter()) + timeout + 10)
    return records, samples, exhausted, cpu


async def _run_async(base, path, cookie_name, sessions, bodies, phase, timeout, sampler):
    n = len(sessions)
    records: list[list[tuple]] = [[] for _ in range(n)]
    samples: dict = {}
    exhausted = [False] * n

    async def one(i: int) -> None:
        rec = records[i]
        async with httpx.AsyncClient(**client_kwargs(base, cookie_name, sessions[i], timeout)) as client:
            delay = phase.begin - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            for k, (pk, body) in enumerate(bodies[i]):
                send_at, t0 = phase.start_time(i, k)
                if send_at >= phase.end:  # also stops an open-loop client that fell behind
                    break
                delay = send_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    response = await client.post(path, content=body, headers=JSON_HEADERS)
                    status = response.status_code
                    if status != 201:
                        _record_error(samples, status, response.text)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                    _record_error(samples, status, repr(exc))
                done = time.perf_counter()
                rec.append((t0, done - t0, status, pk, done))
            else:
                exhausted[i] = True

    loop = asyncio.get_running_loop()
    sampling = loop.run_in_executor(None, sampler, phase)  # sleeps in a thread, not in the loop
    await asyncio.gather(*(one(i) for i in range(n)))
    return records, samples, exhausted, await sampling


def make_sampler(server_pgid: int, dbname: str):
    def sample(phase: Phase):
        delay = phase.warm_end - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        before = cpu_snapshot(server_pgid, dbname)
        delay = phase.end - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        after = cpu_snapshot(server_pgid, dbname)
        return cpu_report(before, after)

    return sample


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


def summarize(records: list[list[tuple]], phase: Phase, seconds: float) -> dict:
    """Throughput: 201s completed inside the window. Latency: requests started (closed loop) or
    scheduled (open loop) inside the window. Unsent: open-loop requests scheduled inside the
    window that were never sent because the client was still waiting on earlier answers."""
    window = [r for rec in records for r in rec if phase.warm_end <= r[0] < phase.end]
    latencies = sorted(r[1] for r in window)
    statuses = Counter(r[2] for r in window)
    ok = sum(1 for rec in records for r in rec if r[2] == 201 and phase.warm_end <= r[4] < phase.end)
    per_client = sorted(sum(1 for r in rec if r[2] == 201 and phase.warm_end <= r[4] < phase.end) for rec in records)
    unsent = 0
    if phase.interval:
        for i, rec in enumerate(records):
            offset = phase.begin + i / phase.clients * phase.interval
            first = max(0, math.ceil((phase.warm_end - offset) / phase.interval))
            last = math.ceil((phase.end - offset) / phase.interval)  # exclusive
            unsent += max(0, last - first - sum(1 for r in rec if phase.warm_end <= r[0] < phase.end))
    return {
        "ok": ok,
        "rate": ok / seconds,
        "n": len(window),
        "statuses": statuses,
        "unsent": unsent,
        "per_client": ((per_client[0], per_client[len(per_client) // 2], per_client[-1]) if per_client else (0, 0, 0)),
        "mean": (sum(latencies) / len(latencies) * 1000) if latencies else float("nan"),
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "max": (latencies[-1] * 1000) if latencies else float("nan"),
    }


def detail_lines(summary: dict, args) -> list[str]:
    low, mid, high = summary["per_client"]
    lines = [
        f"  {summary['n']} requests in the window, mean {summary['mean']:.0f} ms, errors by status: "
        f"{format_statuses(summary['statuses'])}; 201s per client min/median/max {low}/{mid}/{high}"
    ]
    if args.rate:
        # a few slots at the window's edge are always late; a backlog means the server fell behind
        if summary["unsent"] > max(args.clients, 0.01 * args.rate * args.seconds):
            lines.append(
                f"  OVERLOADED: offered {args.rate:g}/s, served {summary['rate']:.0f}/s; {summary['unsent']} "
                f"requests scheduled in the window were never sent (clients still waiting on earlier "
                f"answers): latency grows without bound, the percentiles cover only the requests sent"
            )
        else:
            lines.append(
                f"  offered {args.rate:g}/s, kept up ({summary['unsent']} requests scheduled in the last "
                f"moments of the window not sent before its end)"
            )
    return lines


def format_statuses(statuses: Counter) -> str:
    bad = {k: v for k, v in statuses.items() if k != 201}
    return "none" if not bad else ", ".join(f"{k}: {v}" for k, v in sorted(bad.items(), key=str))


# --------------------------------------------------------------------------------------------
# Checks


def check_exactly_once(records, preflight_acked: set[int]) -> tuple[bool, str, set[int], int]:
    from django.db.models import Count

    from webapp.arena.models import Vote

    acked = set(preflight_acked)
    uncertain: set[int] = set()  # transport errors: the server may or may not have stored them
    answered_error: set[int] = set()
    n_acks = len(preflight_acked)
    for rec in records:
        for _t0, _lat, status, pk, _done in rec:
            if status == 201:
                acked.add(pk)
                n_acks += 1
            elif isinstance(status, int):
                answered_error.add(pk)
            else:
                uncertain.add(pk)
    stored_rows = Vote.objects.count()
    stored = set(Vote.objects.exclude(battle=None).values_list("battle_id", flat=True))
    duplicates = Vote.objects.exclude(battle=None).values("battle_id").annotate(n=Count("id")).filter(n__gt=1).count()
    missing = acked - stored
    unexplained = stored - acked - uncertain - answered_error
    stored_after_error = stored & answered_error
    ok = (
        n_acks == len(acked)
        and not missing
        and duplicates == 0
        and not unexplained
        and stored_rows == len(stored)
        and not stored_after_error
    )
    line = f"exactly once: {n_acks} acknowledged, {stored_rows} stored, {duplicates} duplicates"
    if missing or unexplained or uncertain or stored_after_error or n_acks != len(acked):
        line += (
            f"  [acked but missing {len(missing)}, stored but never acked {len(unexplained)}, "
            f"stored after an error answer {len(stored_after_error)}, transport errors {len(uncertain)} "
            f"({len(stored & uncertain)} of them stored), battles acked twice {n_acks - len(acked)}]"
        )
    return ok, line, acked, stored_rows


def replay_check(base, cookie_name, sessions, bodies, acked: set[int], timeout: float) -> tuple[bool, str]:
    from webapp.arena.models import Vote

    # round-robin over clients, so replays come from every voter
    picks = []
    queues = [[(i, pk, body) for pk, body in client if pk in acked] for i, client in enumerate(bodies)]
    for batch in itertools.zip_longest(*queues):
        picks.extend(p for p in batch if p is not None)
        if len(picks) >= REPLAYS:
            break
    picks = picks[:REPLAYS]
    before = Vote.objects.count()
    statuses: Counter = Counter()
    not_replay = 0
    clients = {}
    try:
        for i, _pk, body in picks:
            if i not in clients:
                clients[i] = httpx.Client(**client_kwargs(base, cookie_name, sessions[i], timeout))
            try:
                response = clients[i].post("/api/v1/votes", content=body, headers=JSON_HEADERS)
                statuses[response.status_code] += 1
                if response.status_code == 200 and response.json().get("vote", {}).get("replay") is not True:
                    not_replay += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
    finally:
        for client in clients.values():
            client.close()
    new_rows = Vote.objects.count() - before
    ok = len(picks) == REPLAYS and statuses == Counter({200: REPLAYS}) and new_rows == 0 and not_replay == 0
    answer = "200 OK" if statuses == Counter({200: len(picks)}) else ", ".join(f"{k}: {v}" for k, v in statuses.items())
    line = f"{len(picks)} replays -> {answer}, {new_rows} new rows"
    if not_replay:
        line += f", {not_replay} answers without replay=true"
    return ok, line


# --------------------------------------------------------------------------------------------
# In-process profile (--profile)


def profile_in_process(sessions_pk, cookie_name: str, n: int = 200) -> list[str]:
    """One vote and one bare INSERT through Django's WSGI handler in this process (no gunicorn,
    no HTTP): SQL statements, Redis commands, health checks, and CPU ms per request."""
    import redis
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test import RequestFactory, override_settings
    from django.test.utils import CaptureQueriesContext

    session_key, battle_bodies = sessions_pk
    factory = RequestFactory()
    redis_calls = Counter()
    health = Counter()
    original_exec = redis.Redis.execute_command
    original_usable = connection.is_usable

    def counting_exec(self, *args, **kwargs):
        redis_calls[str(args[0]).split()[0].upper()] += 1
        return original_exec(self, *args, **kwargs)

    def counting_usable():
        health["SELECT 1"] += 1
        return original_usable()

    def call(handler, path, body):
        environ = factory.post(
            path,
            data=body,
            content_type="application/json",
            REMOTE_ADDR="127.0.0.1",
            HTTP_HOST="127.0.0.1",
            HTTP_COOKIE=f"{cookie_name}={session_key}",
        ).environ
        status = []
        chunks = handler(environ, lambda s, h, exc_info=None: status.append(s))
        b"".join(chunks)
        chunks.close()  # request_finished, as a WSGI server does
        return int(status[0].split()[0])

    timings: list[tuple[str, float]] = []
    original_commit = connection._commit

    def timing_wrapper(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append((sql, time.perf_counter() - t0))

    def timed_commit():
        t0 = time.perf_counter()
        try:
            return original_commit()
        finally:
            timings.append(("COMMIT", time.perf_counter() - t0))

    lines = []
    redis.Redis.execute_command = counting_exec
    connection.is_usable = counting_usable
    connection._commit = timed_commit
    try:
        with override_settings(ROOT_URLCONF="benchmarks.bare_insert_urls"):
            handler = WSGIHandler()
            for label, path, items in (
                ("vote", "/api/v1/votes", battle_bodies),
                ("bare INSERT", "/bench/insert", battle_bodies),
            ):
                call(handler, path, items[0][1])  # warm: connection open, URLconf loaded
                redis_calls.clear()
                health.clear()
                timings.clear()
                with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timing_wrapper):
                    status = call(handler, path, items[1][1])
                lines.append(
                    f"  {label}: HTTP {status}, {len(ctx.captured_queries)} SQL statements "
                    f"(incl. BEGIN/COMMIT) "
                    f"+ {sum(health.values())} health-check SELECT 1, redis commands {dict(redis_calls) or 0}"
                )
                for sql, seconds in timings:  # wall time of each round trip (BEGIN goes out with the INSERT)
                    lines.append(f"      {1000 * seconds:6.3f} ms  {sql[:120]}{'...' if len(sql) > 120 else ''}")
                rest = items[2 : 2 + n]
                gc.collect()
                gc.freeze()  # this process holds every client's tokens: keep its GC passes out of the figure
                profiler = cProfile.Profile(time.process_time) if os.environ.get("VOTEBENCH_CPROFILE") else None
                c0, w0 = time.process_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                for _pk, body in rest:
                    call(handler, path, body)
                if profiler:
                    profiler.disable()
                c1, w1 = time.process_time(), time.perf_counter()
                if profiler:  # VOTEBENCH_CPROFILE=1: where the Python time goes, for experiments
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).sort_stats(os.environ["VOTEBENCH_CPROFILE"]).print_stats(45)
                    lines.extend("      " + line for line in out.getvalue().splitlines() if line.strip())
                if rest:
                    lines.append(
                        f"      in-process over {len(rest)} requests: {1000 * (c1 - c0) / len(rest):.2f} ms "
                        f"CPU (this process, excl. postgres/redis), "
                        f"{1000 * (w1 - w0) / len(rest):.2f} ms wall"
                    )
    finally:
        redis.Redis.execute_command = original_exec
        connection.is_usable = original_usable
        connection._commit = original_commit
    return lines


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help=f"measured window (default 15, cap {MAX_SECONDS})")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up before each window, excluded (default 3)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument(
        "--workers", type=int, default=5, help="gunicorn worker processes (default 5: gunicorn's 2 x cores + 1)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (default 1: at 300 votes/s, 2 workers x 4 threads "
        "queue behind the GIL - p99 200-500 ms where 5 x 1 gives ~50 ms)",
    )
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class (default gthread)")
    parser.add_argument(
        "--app",
        default="webapp.wsgi:application",
        help="WSGI app for gunicorn (default webapp.wsgi:application; for experiments)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="open loop: offer this many requests/s in total, latency counted from each "
        "request's scheduled time (default 0: closed loop, each client sends its next "
        "request when the last one is answered)",
    )
    parser.add_argument(
        "--client-mode",
        choices=("raw", "threads", "async"),
        default="raw",
        help="load generator: threads with one keep-alive socket each and pre-formatted "
        "requests (raw, default: least client CPU on a machine shared with the server), "
        "threads + httpx.Client each, or asyncio + httpx.AsyncClient",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="client request timeout in seconds")
    parser.add_argument(
        "--battles-per-client",
        type=int,
        default=0,
        help=f"battles made per client (default: {UNFAIRNESS} x {BATTLE_RATE_CEILING}/s x run time "
        f"/ clients, or what --rate schedules)",
    )
    parser.add_argument(
        "--db-pool",
        action="store_true",
        help="serve with Django's psycopg pool (needs psycopg_pool importable; see benchmarks/bench_settings.py)",
    )
    parser.add_argument("--no-health-checks", action="store_true", help="serve with CONN_HEALTH_CHECKS=False")
    parser.add_argument(
        "--prepared-statements",
        action="store_true",
        help="serve with server-side binding + psycopg prepared statements (prepare_threshold 5)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare INSERT run")
    parser.add_argument(
        "--profile", action="store_true", help="also count SQL/Redis calls per request and CPU per request in-process"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be in 1..{MAX_SECONDS}")
    if not 0 <= args.warmup <= 30:
        parser.error("--warmup must be in 0..30")
    if not 0 <= args.rate <= 5000:
        parser.error("--rate must be in 0..5000")
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be in 1..{MAX_CLIENTS}")
    if not (1 <= args.workers <= 64 and 1 <= args.threads <= 64):
        parser.error("--workers and --threads must be in 1..64")
    return args


def run(args, td: Teardown) -> int:
    env = make_env(args, td.dbname, td.prefix, td.tmpdir)
    os.environ.update(env)
    server_env = dict(os.environ, DJANGO_SETTINGS_MODULE="benchmarks.bench_settings")
    if args.db_pool:
        server_env.update(VOTEBENCH_DB_POOL="1", VOTEBENCH_DB_POOL_SIZE=str(args.threads))
        probe = subprocess.run([sys.executable, "-c", "import psycopg_pool"], env=server_env, capture_output=True)
        if probe.returncode != 0:
            raise SystemExit(
                "--db-pool: psycopg_pool is not importable (pip install 'psycopg[pool]', "
                "or put it on PYTHONPATH for this run)"
            )
    if args.no_health_checks:
        server_env["VOTEBENCH_CONN_HEALTH_CHECKS"] = "0"
    if args.prepared_statements:
        server_env["VOTEBENCH_DB_PREPARE"] = "1"

    t_setup = time.perf_counter()
    create_database(td)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_insert (id bigserial primary key, body text, created_at timestamptz default now())"
        )
    if args.battles_per_client:
        per_client = args.battles_per_client
    elif args.rate:  # open loop: the schedule says exactly how many
        per_client = math.ceil(1.1 * args.rate * (args.seconds + args.warmup + 1) / args.clients)
    else:  # closed loop: gunicorn does not share itself fairly between keep-alive connections
        per_client = math.ceil(UNFAIRNESS * BATTLE_RATE_CEILING * (args.seconds + args.warmup) / args.clients)
    per_client += 1  # battle 0 of every client: the pre-flight vote
    n_extra = 1 if args.profile else 0
    sessions, bodies, _voters, n_models, n_prompts = create_data(args.clients + n_extra, per_client, args.seed)
    profile_material = (sessions.pop(), bodies.pop()) if args.profile else None
    cookie = settings.SESSION_COOKIE_NAME
    print(
        f"setup: database {td.dbname}, redis prefix {td.prefix}, {n_models} models x {n_prompts} prompts, "
        f"{args.clients} sessions ({settings.SESSION_ENGINE.rsplit('.', 1)[-1]}), {per_client} battles each "
        f"({args.clients * per_client} signed tokens), {time.perf_counter() - t_setup:.1f} s"
    )
    close_django_connections()

    log_path = td.tmpdir / "gunicorn.log"
    proc, base, shown = start_gunicorn(args, server_env, td, log_path)
    db = settings.DATABASES["default"]
    conn_desc = (
        f"psycopg pool {args.threads}/process, CONN_MAX_AGE 0"
        if args.db_pool
        else f"CONN_MAX_AGE {db.get('CONN_MAX_AGE')}"
    )
    health = "off" if args.no_health_checks else str(db.get("CONN_HEALTH_CHECKS", False)).lower()
    prepared = ", prepared statements (server-side binding)" if args.prepared_statements else ""
    print(
        f"gunicorn: {' '.join(shown)}  ({args.workers * args.threads} request threads, {conn_desc}, "
        f"CONN_HEALTH_CHECKS {health}{prepared}; DJANGO_SETTINGS_MODULE=benchmarks.bench_settings)"
    )
    shape = (
        f"open loop at {args.rate:g} req/s offered, latency from the scheduled send time"
        if args.rate
        else "closed loop: next request when the last is answered"
    )
    print(
        f"load: {args.clients} clients ({args.client_mode}: "
        f"{CLIENT_MODES[args.client_mode]}, "
        f"keep-alive; {shape}), warm-up {args.warmup:g} s excluded, window {args.seconds:g} s; "
        f"VOTE_RATE_PER_MINUTE=1000000 (per-voter Redis counter still runs), VOTE_RATE_PER_IP_PER_MINUTE=0 "
        f"(off: all clients are 127.0.0.1) - the rate limit is not what is measured"
    )

    failures = []
    # Pre-flight: every client's battle 0, sequentially - proves each cookie maps to its voter.
    preflight_acked = set()
    for i, session_key in enumerate(sessions):
        with httpx.Client(**client_kwargs(base, cookie, session_key, args.timeout)) as client:
            pk, body = bodies[i][0]
            response = client.post("/api/v1/votes", content=body, headers=JSON_HEADERS)
            if response.status_code != 201:
                raise RuntimeError(
                    f"pre-flight vote of client {i} answered {response.status_code}: "
                    f"{response.text[:300]}\n{tail(log_path)}"
                )
            preflight_acked.add(pk)
    load_bodies = [client[1:] for client in bodies]
    sampler = make_sampler(proc.pid, td.dbname)

    busy, total = machine_busy(1.0)
    print(
        f"machine: {round(total)} cores, {busy:.2f} busy in the second before the run "
        f"(other work on the machine skews every number below)"
    )
    phase = Phase(args.warmup, args.seconds, args.rate, args.clients)
    records, samples, exhausted, cpu = run_load(
        args.client_mode, base, "/api/v1/votes", cookie, sessions, load_bodies, phase, args.timeout, sampler
    )
    vote = summarize(records, phase, args.seconds)
    print(
        f"vote endpoint: {vote['rate']:.0f} votes/s  p50 {vote['p50']:.0f} ms  p95 {vote['p95']:.0f} ms  "
        f"p99 {vote['p99']:.0f} ms  max {vote['max']:.0f} ms  (target >= 300/s, p99 <= 100 ms: "
        f"{'met' if vote['rate'] >= 300 and vote['p99'] <= 100 else 'NOT met'})"
    )
    for line in detail_lines(vote, args):
        print(line)
    for line in format_cpu(cpu, vote["rate"]):
        print(line)
    for status, texts in samples.items():
        print(f"  sample answer {status}: {texts[0]}")
    if not args.rate:
        print(
            f"  note: closed loop, so mean latency = {args.clients} clients / throughput (Little's law); "
            f"p99 <= 100 ms with {args.clients} clients needs well over {args.clients / 0.1:.0f}/s. "
            f"--rate 300 measures latency at the target rate instead"
        )
    if any(exhausted):
        print(
            f"  WARNING: {sum(exhausted)} clients ran out of battles before the end of the window "
            f"(raise --battles-per-client); the rate above is a lower bound"
        )
    bad_answers = sum(
        v for k, v in Counter(r[2] for rec in records for r in rec).items() if isinstance(k, int) and k != 201
    )
    if bad_answers:
        failures.append(f"{bad_answers} valid votes answered with an error status")

    ok_once, once_line, acked, _stored = check_exactly_once(records, preflight_acked)
    ok_replay, replay_line = replay_check(base, cookie, sessions, load_bodies, acked, args.timeout)
    if not ok_once:
        failures.append("exactly-once check")
    if not ok_replay:
        failures.append("replay check")
    from webapp.arena.services import tallies

    drift = tallies.drift()  # the triggers under 32 concurrent voters: still equal to the votes
    tally_line = (
        "tallies equal a GROUP BY over the votes" if not drift else f"{len(drift)} tally rows DIFFER from the votes"
    )
    if drift:
        failures.append("tally check")

    bare = None
    if not args.no_baseline:
        # The same clients, cookies, bodies and load shape, against /bench/insert.
        cycle_bodies = []
        for client in load_bodies:
            limit = int(2000 * (args.seconds + args.warmup))  # bounded; far above 2 cores' pace
            cycle_bodies.append(itertools.islice(itertools.cycle(client), limit))
        phase = Phase(args.warmup, args.seconds, args.rate, args.clients)
        b_records, b_samples, _, b_cpu = run_load(
            args.client_mode, base, "/bench/insert", cookie, sessions, cycle_bodies, phase, args.timeout, sampler
        )
        bare = summarize(b_records, phase, args.seconds)
        print(
            f"bare INSERT endpoint: {bare['rate']:.0f} req/s  p50 {bare['p50']:.0f} ms  p95 {bare['p95']:.0f} ms  "
            f"p99 {bare['p99']:.0f} ms  max {bare['max']:.0f} ms"
        )
        for line in detail_lines(bare, args):
            print(line)
        for line in format_cpu(b_cpu, bare["rate"]):
            print(line)
        for status, texts in b_samples.items():
            print(f"  sample answer {status}: {texts[0]}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM bench_insert")
            (rows,) = cursor.fetchone()
        acks = sum(1 for rec in b_records for r in rec if r[2] == 201)
        if rows != acks:
            print(f"  bare INSERT rows {rows} != 201 answers {acks}")
        print(
            f"ratio vote/bare: throughput {vote['rate'] / bare['rate']:.2f}  p99 {vote['p99'] / bare['p99']:.1f}"
            f"  p50 {vote['p50'] / bare['p50']:.1f}  (CPU per request, all processes: vote "
            f"{cpu_per_ok(cpu, vote['rate']):.1f} ms / bare {cpu_per_ok(b_cpu, bare['rate']):.1f} ms -> "
            f"throughput ratio {cpu_per_ok(b_cpu, bare['rate']) / cpu_per_ok(cpu, vote['rate']):.2f} "
            f"independent of other load)"
        )

    print(f"{once_line}; {replay_line}; {tally_line}")
    if profile_material:
        print("profile (in-process, Django WSGI handler, no gunicorn/HTTP):")
        for line in profile_in_process(profile_material, cookie):
            print(line)
    errors = "\n".join(
        line for line in tail(log_path, 200).splitlines() if "Method Not Allowed: /api/v1/votes" not in line
    )  # the readiness probe
    errors = "\n".join(errors.splitlines()[-10:])
    if errors.strip():
        print(f"gunicorn log tail:\n{errors}")
    if failures:
        print(f"CORRECTNESS FAILURES: {'; '.join(failures)}")
        return 1
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    pid = os.getpid()
    tmpdir = Path(tempfile.mkdtemp(prefix=f"votebench-{pid}-"))
    td = Teardown(f"screentest_votebench_{pid}", f"votebench-{pid}", tmpdir)

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    rc = 2
    try:
        rc = run(args, td)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        rc = 130
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        rc = 2
    except Exception:
        import traceback

        traceback.print_exc()
        rc = 2
    finally:
        td.run()
    return rc


if __name__ == "__main__":
    sys.exit(main())
