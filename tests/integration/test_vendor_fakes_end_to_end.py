"""One prompt against every fake vendor at once, through the real pipeline: the web of
PostgreSQL, Redis, a real Celery worker process, the real adapters over HTTP, real ffmpeg.

One fake refuses on policy (as a failed job), one rate-limits the first create (429 with
Retry-After), one model (a second Replicate entry) gets a redirect to another loopback service
standing in for an internal address: a clip for each of the others, and the internal service
never contacted. Every fake answers under its vendor's real hostnames (SCREENTEST_TEST_RESOLVE)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.fakes.all_vendors import VENDORS, catalog_entry, params_for, start_all, stop_all, worker_env
from webapp.catalog.models import VideoModel
from webapp.studio.models import Clip, GenerationJob, JobState
from webapp.studio.services.submission import PromptInput, submit_prompt

from .conftest import wait_for

pytestmark = pytest.mark.integration


class InternalService(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        InternalService.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def fakes():
    started = start_all()
    internal = ThreadingHTTPServer(("127.0.0.2", 0), InternalService)
    threading.Thread(target=internal.serve_forever, daemon=True).start()
    yield started, internal
    internal.shutdown()
    internal.server_close()
    stop_all(started)


def test_one_prompt_against_every_fake_vendor(fakes, celery_procs, django_capture_on_commit_callbacks):
    started, internal = fakes
    for key, fake in started.items():
        entry = catalog_entry(key, fake)
        VideoModel.objects.create(**{k: v for k, v in entry.items()})
    VideoModel.objects.create(
        slug="fake-sneaky",
        display_name="Sneaky",
        vendor="fake",
        backend_key="replicate",
        max_duration_s=10,
        backend_params=params_for("replicate", replicate_model=None, version="fakeversion0minimax"),
    )
    InternalService.hits.clear()
    replicate = started["replicate"]
    replicate.internal_redirect_target = f"http://127.0.0.2:{internal.server_address[1]}/latest/meta-data/"
    replicate.flags_for["fakeversion0minimax"] = {"redirect-internal"}
    started["luma"].flag_next_job("policy-async")
    started["runway"].fail_next(429, {"error": "Too many requests"}, headers={"Retry-After": "1"}, method="POST")

    celery_procs.worker("vendors@localhost", env=worker_env(started))
    # every adapter still served (the direct Sora adapter is retired: submissions refuse it)
    slugs = [VENDORS[key][0] for key in started if key != "openai-sora"] + ["fake-sneaky"]
    with django_capture_on_commit_callbacks(execute=True):
        prompt = submit_prompt(
            PromptInput(text="a paper boat drifting down a rainy street", models=slugs, duration_s=5, seed=11)
        )
    wait_for(
        lambda: all(j.is_terminal for j in GenerationJob.objects.filter(prompt=prompt)),
        timeout=150,
        what="every vendor job to finish",
        logs=celery_procs.logs,
    )

    jobs = {j.model.slug: j for j in prompt.jobs.select_related("model")}
    states = {slug: (j.state, j.error_code) for slug, j in jobs.items()}
    expected_clips = {"fake-runway", "fake-luma-agents", "fake-kling", "fake-pika", "fake-veo", "fake-replicate"}
    assert {slug for slug, (state, _) in states.items() if state == JobState.SUCCEEDED} == expected_clips, states
    assert states["fake-luma"] == (JobState.REJECTED_BY_VENDOR, "rejected_by_vendor")
    assert states["fake-sneaky"] == (JobState.FAILED, "unsafe_url")
    assert InternalService.hits == []  # never contacted

    for slug in expected_clips:
        job = jobs[slug]
        clip = Clip.objects.get(job=job)
        assert clip.width > 0 and clip.duration_s == pytest.approx(1.0, abs=0.2)
        assert job.vendor_job_id
    assert jobs["fake-luma"].attempts == 1 and len(started["luma"].requests_to(r"/generations/video$", "POST")) == 1

    # the rate-limited create was retried once, after at least the vendor's Retry-After
    runway_creates = started["runway"].requests_to(r"^/v1/text_to_video$", "POST")
    # the 429 deferred the job for Retry-After without using an attempt
    assert len(runway_creates) == 2 and jobs["fake-runway"].attempts == 1
    assert runway_creates[1].at - runway_creates[0].at >= 1.0
    assert len(started["runway"].jobs) == 1  # one vendor job paid for
    # costs from catalog prices: Veo 6 s (5 s asked) x $0.15, Runway 5 s x 12 credits
    assert float(jobs["fake-veo"].cost_usd) == pytest.approx(0.9)
    assert float(jobs["fake-runway"].cost_usd) == pytest.approx(0.6)
