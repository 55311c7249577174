"""The stack benchmarks/faults.py injects faults into: a scratch PostgreSQL database on
127.0.0.1:5432, a private redis-server on a free port (never the shared one on 6379), real
Celery worker and beat processes, Django set up in this process to submit prompts and to check
how every job ended. Everything it starts is stopped, and the database dropped, on every exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.scratch_stack import (
    REPO_ROOT,
    Teardown,
    create_database,
    free_port,
    make_env,
    spawn,
    stop_process_group,
    tail,
)

CELERY = [sys.executable, "-m", "celery", "-A", "workers.celery"]
ALL_QUEUES = "generate,media,arena,default"


class FaultTeardown(Teardown):
    """scratch_stack's Teardown, except that Redis is this run's own server: it is stopped
    with the other processes instead of having keys deleted from the shared one."""

    def delete_redis_keys(self) -> None:
        pass  # the private redis-server is one of self.servers; nothing else was touched


@dataclass
class Stack:
    td: FaultTeardown
    env: dict[str, str]
    redis_port: int
    media_root: Path
    work_dir: Path
    logs: Path
    redis: subprocess.Popen | None = None
    beat: subprocess.Popen | None = None
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)
    serial: int = 0

    # --- processes -------------------------------------------------------------------------
    def start_redis(self) -> None:
        cmd = ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"]
        cmd += ["--save", "", "--appendonly", "no"]
        self.redis = spawn(cmd, self.env, self.td, self.logs / "redis.log")
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.redis_port, socket_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                if client.ping():
                    break
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{tail(self.logs / 'redis.log')}")
            time.sleep(0.1)
        client.close()

    def stop_redis(self) -> None:
        """Shut Redis down (SIGTERM, no persistence configured: every queued message is gone)."""
        if self.redis is not None:
            stop_process_group(self.redis)
            self.td.servers.remove(self.redis)
            self.redis = None

    def worker(
        self, *, queues: str = ALL_QUEUES, concurrency: int = 1, env: dict | None = None, wait: bool = True
    ) -> str:
        self.serial += 1
        name = f"fault-{self.serial}@127.0.0.1"
        log = self.logs / f"worker-{self.serial}.log"
        cmd = [*CELERY, "worker", "-Q", queues, "-c", str(concurrency), "-n", name]
        cmd += ["--without-mingle", "--without-gossip", "--loglevel", "INFO"]
        self.workers[name] = spawn(cmd, {**self.env, **(env or {})}, self.td, log)
        if wait:
            self._wait_log(log, " ready.", self.workers[name])
        return name

    def start_beat(self, env: dict | None = None) -> None:
        log = self.logs / "beat.log"
        cmd = [*CELERY, "beat", "--loglevel", "INFO", "--schedule", str(self.logs / "beat-schedule")]
        self.beat = spawn(cmd, {**self.env, **(env or {})}, self.td, log)
        self._wait_log(log, "beat: Starting", self.beat)

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker's whole process group (the pool children and their ffmpeg too)."""
        proc = self.workers.pop(name)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
        self.td.servers.remove(proc)

    def stop_worker(self, name: str) -> None:
        proc = self.workers.pop(name)
        stop_process_group(proc)
        self.td.servers.remove(proc)

    def _wait_log(self, log: Path, text: str, proc: subprocess.Popen, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while text not in (log.read_text(errors="replace") if log.exists() else ""):
            if proc.poll() is not None:
                raise RuntimeError(f"{log.name}: exited ({proc.returncode}):\n{tail(log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{log.name}: not ready within {timeout:.0f} s:\n{tail(log)}")
            time.sleep(0.2)


def build(tag: str, extra_env: dict[str, str]) -> Stack:
    """Database, private Redis, Django in this process (migrated). Call stack.td.run() at the end."""
    tmpdir = Path(tempfile.mkdtemp(prefix=f"screentest-faults-{tag}-"))
    dbname = f"screentest_votebench_faults_{tag}_{os.getpid()}"
    td = FaultTeardown(dbname, "unused:", tmpdir)
    port = free_port()
    env = dict(os.environ)
    env.update(make_env(None, dbname, f"faults{os.getpid()}:", tmpdir))
    work_dir = tmpdir / "work"
    work_dir.mkdir()
    env.update(
        {
            "REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "BROKER_KEY_PREFIX": "",
            "CACHE_KEY_PREFIX": "",
            "WORK_DIR": str(work_dir),
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "LOG_LEVEL": "INFO",
            **extra_env,
        }
    )
    env.pop("BROKER_KEY_PREFIX")
    logs = tmpdir / "logs"
    logs.mkdir()
    stack = Stack(td, env, port, Path(env["MEDIA_ROOT"]), work_dir, logs)
    try:
        create_database(td)
        stack.start_redis()
        os.environ.update(env)
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
    except BaseException:  # the caller never gets the stack to tear down
        td.run()
        raise
    return stack
