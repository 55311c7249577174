"""D7 (issue 16): an outage of Redis or the database answers 503 with Retry-After (JSON under
/api/), never 500; sessions and the rate limiter keep working on the database alone while Redis
is down; a prompt submitted then is saved, answered 201, and sent by the reaper later. Real
gunicorn, a private redis-server started and stopped by the test, PostgreSQL or SQLite."""

import shutil
import subprocess
import time

import pytest
import requests

from webapp.catalog.services import load_catalog
from webapp.studio.models import GenerationJob, JobState

from .conftest import free_port, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of the test's own on a free port (never the shared one), no persistence."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed for the outage tests (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def answers():
        return subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip()

    wait_for(lambda: answers() == "PONG", timeout=20, what="private redis-server")
    yield port, proc
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def _assert_retry_later(response, *, api: bool):
    assert response.status_code == 503, (response.status_code, response.text[:500])
    assert int(response.headers["Retry-After"]) > 0
    if api:
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["error"]["code"] == "service_unavailable"


def test_redis_down_sessions_rate_limits_and_submissions_keep_working(celery_procs, collected_static, private_redis):
    load_catalog()
    port, redis_proc = private_redis
    redis_url = f"redis://127.0.0.1:{port}/0"
    base = celery_procs.web(
        collected_static,
        env={"REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url, "CACHE_URL": f"redis://127.0.0.1:{port}/1"},
    )
    browser = requests.Session()
    login_page = browser.get(f"{base}/accounts/login/", timeout=30)
    assert login_page.status_code == 200
    redis_proc.kill()
    redis_proc.wait(timeout=10)

    # A page with a session and the login throttle (the rate limiter): answered, not 500.
    failed_login = browser.post(
        f"{base}/accounts/login/",
        data={"username": "nobody", "password": "wrong", "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,
    )
    assert failed_login.status_code == 200, failed_login.text[:500]
    assert browser.get(f"{base}/", timeout=30).status_code == 200
    assert browser.get(f"{base}/api/v1/models", timeout=30).status_code == 200

    # A prompt with the broker down: saved and acknowledged (D2), sent later by the reaper.
    submitted = requests.post(f"{base}/api/v1/prompts", json={"prompt": "a lighthouse at dusk"}, timeout=60)
    assert submitted.status_code == 201, submitted.text[:500]
    jobs = GenerationJob.objects.filter(prompt__public_id=submitted.json()["id"])
    assert jobs.exists() and all(job.state == JobState.QUEUED and job.enqueued_at is None for job in jobs)

    # Whatever still needs Redis says "retry later", never "broken".
    for path in ("/api/v1/voters/challenge", "/api/v1/battles/next", "/api/v1/leaderboard"):
        answer = requests.get(f"{base}{path}", timeout=30)
        assert answer.status_code != 500, (path, answer.text[:500])
        if answer.status_code == 503:
            _assert_retry_later(answer, api=True)


def test_database_down_answers_503_with_retry_after(celery_procs, collected_static):
    base = celery_procs.web(
        collected_static, env={"DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/nowhere"}
    )
    started = time.monotonic()
    _assert_retry_later(requests.get(f"{base}/api/v1/models", timeout=30), api=True)
    _assert_retry_later(requests.post(f"{base}/api/v1/prompts", json={"prompt": "a fox"}, timeout=30), api=True)
    _assert_retry_later(requests.get(f"{base}/", timeout=30), api=False)
    _assert_retry_later(requests.get(f"{base}/leaderboard", timeout=30), api=False)
    assert time.monotonic() - started < 60
