"""The scratch stack the load benchmarks run against: a throwaway PostgreSQL database and Redis
key prefix, gunicorn in its own process group, and a teardown that removes all of it on every
exit path. Shared by vote_load.py and vote_stuffing.py.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmarks.cpu_accounting import read_stat

REPO_ROOT = Path(__file__).resolve().parents[1]

PG_DSN = "host=127.0.0.1 port=5432 user=postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
PROTECTED_DATABASES = {"test", "root", "postgres", "template0", "template1"}


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


def spawn(cmd: list[str], env: dict, td: Teardown, log_path: Path) -> subprocess.Popen:
    """A server process of the stack: its own process group (stopped as a group at teardown),
    killed with this script if it dies, output appended to log_path."""
    with open(log_path, "ab") as log:
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
    td.servers.append(proc)
    return proc


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
    proc = spawn(cmd, env, td, log_path)
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
