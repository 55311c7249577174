"""With DEBUG off, no process serves on a public or weak SECRET_KEY (issue 12, item 1b):
gunicorn's WSGI module, manage.py, the Celery worker and beat refuse to start, and say how to
make a key. The rules are Django's deploy check's (security.W009)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.core.secret_key import DEVELOPMENT_KEY, weakness

ROOT = Path(__file__).resolve().parents[2]
STRONG = "q7Vd2m-Xk9Lr_pZ4wT1yB8nC5hJ0sF3gE6aU2iO7eR9tY4uQ1wZ8xV5cN3bM0lK"


def run(argv, *, key=None, debug=None, timeout=90):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SECRET_KEY_FILE", "DEBUG")}
    if key is not None:
        env["SECRET_KEY"] = key
    if debug is not None:
        env["DEBUG"] = debug
    return subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    "key, why",
    [
        ("", "not set"),
        (DEVELOPMENT_KEY, "not set"),
        ("django-insecure-" + STRONG, "django-insecure-"),
        ("a-short-but-random-looking-key-8f3k2", "characters"),
        ("ab" * 40, "distinct"),
    ],
)
def test_weak_keys_are_named_with_the_reason(key, why):
    assert why in weakness(key)


def test_a_long_random_key_is_strong():
    assert weakness(STRONG) is None


@pytest.mark.parametrize("key", [None, "ab" * 40, "change-me"])
def test_manage_py_refuses_to_start_on_a_weak_key(key):
    result = run(["manage.py", "check"], key=key)
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr and "secrets.token_urlsafe" in result.stderr


def test_the_wsgi_application_refuses_to_load_on_the_default_key():
    result = run(["-c", "import webapp.wsgi"])
    assert result.returncode != 0 and "Refusing to start: SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("command", [["worker", "--pool", "solo"], ["beat"]])
def test_celery_worker_and_beat_refuse_to_start_on_the_default_key(command, tmp_path):
    argv = ["-m", "celery", "-A", "workers.celery", *command, "--loglevel", "WARNING"]
    if command[0] == "beat":
        argv += ["--schedule", str(tmp_path / "beat-schedule")]
    result = run(argv)
    assert result.returncode != 0
    assert "Refusing to start: SECRET_KEY is not set" in result.stdout + result.stderr


def test_a_strong_key_starts_and_debug_allows_the_development_key():
    assert run(["manage.py", "check"], key=STRONG).returncode == 0
    assert run(["manage.py", "check"], debug="true").returncode == 0
