"""Real Celery worker (and beat) processes and gunicorn on the test run's stack (scripts/test.sh):
its PostgreSQL database and a Redis broker under a key prefix of the run's own, or (--embedded)
its SQLite test database file and the filesystem broker and file cache in the run's DATA_DIR."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import EMBEDDED, declared_stack

ROOT = Path(__file__).resolve().parents[2]


def require_test_stack() -> str:
    """Either stack scripts/test.sh sets up: PostgreSQL + Redis, or (--embedded) SQLite in a file
    the child processes can open, the filesystem broker and the file cache, all in the run's own
    DATA_DIR (the worker and gunicorn find the broker and cache there through the environment)."""
    if connection.vendor == "postgresql" and settings.REDIS_URL:
        return "postgresql"
    embedded = (
        declared_stack() == EMBEDDED
        and connection.vendor == "sqlite"
        and not settings.REDIS_URL
        and settings.CELERY_BROKER_URL.startswith("filesystem")
        and Path(settings.DATABASES["default"]["NAME"]).is_file()
        and os.environ.get("DATA_DIR") == str(settings.DATA_DIR)
    )
    if not embedded:
        pytest.fail(
            "integration tests need PostgreSQL + Redis (run scripts/test.sh) or the embedded defaults "
            "in a DATA_DIR of their own (run scripts/test.sh --embedded)"
        )
    return EMBEDDED


def database_url() -> str:
    """The test database, for the child processes."""
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class ServiceProcess:
    """A worker, beat or web server in its own process group, so a kill takes its children too."""

    def __init__(self, log_dir: Path, name: str, argv: list[str], env: dict[str, str]):
        self.name = name
        self.log_path = log_dir / f"{name.replace('@', '_')}-{time.monotonic_ns()}.log"
        self.argv = [sys.executable, "-m", *argv]
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "WORK_DIR": str(settings.WORK_DIR),
            **env,
        }
        self.proc: subprocess.Popen | None = None

    def start(self, ready_text: str = " ready.", timeout: float = 60) -> ServiceProcess:
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while ready_text not in self.log_path.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def kill(self):
        """What a crash looks like: SIGKILL to the whole group, no chance to clean up."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self):
        """A warm shutdown as production asks for it (docker stop, scripts/up.sh): SIGTERM to the
        main process only, which stops its own children. Celery's pool children must not get it
        too: on a transport without an event loop (the embedded filesystem one) they share the
        pool's inqueue lock, and a child killed while holding it leaves the parent hanging."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait_stopped(self, timeout: float = 20):
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def stop(self):
        self.terminate()
        self.wait_stopped()

    def log(self) -> str:
        return self.log_path.read_text()


CELERY = ["celery", "-A", "workers.celery"]


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """The web server runs as in production: DEBUG off, WhiteNoise serving collected files."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "STATIC_ROOT": str(root)},
        timeout=120,
    )
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def celery_procs(transactional_db, tmp_path_factory, settings):
    """Factory for the real processes: .worker(name), .beat(), .web() -> base URL. All of them
    stop at the end of the test."""
    require_test_stack()
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    settings.WORK_DIR = tmp_path_factory.mktemp("work")
    log_dir = tmp_path_factory.mktemp("process-logs")
    started: list[ServiceProcess] = []

    class Factory:
        def worker(self, name, *, queues="generate,media,arena,default", concurrency=2, env=None) -> ServiceProcess:
            proc = ServiceProcess(
                log_dir,
                name,
                [
                    *CELERY,
                    "worker",
                    "-Q",
                    queues,
                    "-c",
                    str(concurrency),
                    "-n",
                    name,
                    "--without-mingle",
                    "--without-gossip",
                    "--loglevel",
                    "INFO",
                ],
                env or {},
            )
            started.append(proc)
            return proc.start()

        def beat(self, env=None) -> ServiceProcess:
            proc = ServiceProcess(
                log_dir,
                "beat",
                [*CELERY, "beat", "--loglevel", "INFO", "--schedule", str(log_dir / "beat-schedule")],
                env or {},
            )
            started.append(proc)
            return proc.start(ready_text="beat: Starting")

        def web(self, static_root: Path, env=None) -> str:
            port = free_port()
            proc = ServiceProcess(
                log_dir,
                "web",
                [
                    "gunicorn",
                    "webapp.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "--access-logfile",
                    "-",
                ],
                {"STATIC_ROOT": str(static_root), **(env or {})},
            )
            started.append(proc)
            proc.start(ready_text="Booting worker")
            url = f"http://127.0.0.1:{port}"
            wait_for(lambda: _answers(f"{url}/healthz"), timeout=30, what="gunicorn", logs=proc.log)
            return url

        def logs(self) -> str:
            return "\n".join(f"--- {p.name}\n{p.log()[-4000:]}" for p in started)

    factory = Factory()
    yield factory
    for proc in started:  # all at once: each takes a few seconds to finish
        proc.terminate()
    for proc in started:
        proc.wait_stopped()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_for(predicate, *, timeout: float, what: str, logs=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs()}")
