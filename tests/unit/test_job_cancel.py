"""Cancelling a job from its card: only the browser that submitted the prompt or a moderator,
by a POST that passes the CSRF check. A cancelled job is final, keeps no clip and leaves no
file, whatever stage it was in."""

import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from tests.conftest import record_sent
from webapp.catalog.models import VideoModel
from webapp.core.storage import store
from webapp.studio.models import Clip, GenerationJob, JobState
from webapp.studio.services import jobs, pipeline
from workers.backends.base import GenerationResult

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sent(monkeypatch):
    messages = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args[0])))
    return messages


@pytest.fixture
def submitter(django_capture_on_commit_callbacks):
    """A browser that submitted a prompt through the API (it keeps the cookies it was given)."""
    VideoModel.objects.create(
        slug="demo-x", display_name="X", vendor="demo", backend_key="demo", backend_params={"fps": 12}
    )
    browser = Client(enforce_csrf_checks=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            "/api/v1/prompts",
            data=json.dumps({"prompt": "a red cat on the beach", "models": ["demo-x"], "duration_s": 1, "seed": 3}),
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    browser.job = GenerationJob.objects.get(prompt__public_id=response.json()["id"])
    return browser


def card_url(job: GenerationJob) -> str:
    return f"/p/{job.prompt.public_id}/jobs/{job.pk}"


def cancel(browser: Client, job: GenerationJob, **extra):
    """What a form sends: the CSRF token from the cookie and the form field (the submit form's,
    which every visitor gets, so a refusal below is about who asks, not the token)."""
    assert browser.get(reverse("studio:new")).status_code == 200
    token = browser.cookies["csrftoken"].value
    return browser.post(f"{card_url(job)}/cancel", {"csrfmiddlewaretoken": token}, **extra)


def test_the_submitter_sees_a_cancel_button_and_cancelling_ends_the_job(submitter):
    job = submitter.job
    assert "data-cancel" in submitter.get(card_url(job)).content.decode()
    response = cancel(submitter, job, headers={"HX-Request": "true"})
    assert response.status_code == 200
    card = response.content.decode()
    assert "Cancelled" in card and "at the request of its submitter or a moderator" in card
    assert "data-cancel" not in card and "hx-get" not in card  # final: no button, no more polling
    job.refresh_from_db()
    assert (job.state, job.error_code) == (JobState.CANCELLED, "cancelled_by_user")
    assert job.finished_at is not None and job.error_message == "cancelled by the browser that submitted the prompt"


def test_without_htmx_cancelling_returns_to_the_prompt_page(submitter):
    response = cancel(submitter, submitter.job)
    assert response.status_code == 302 and response["Location"] == f"/p/{submitter.job.prompt.public_id}"
    assert GenerationJob.objects.get(pk=submitter.job.pk).state == JobState.CANCELLED


def test_another_visitor_sees_no_button_and_may_not_cancel(submitter):
    job = submitter.job
    stranger = Client(enforce_csrf_checks=True)
    assert "data-cancel" not in stranger.get(card_url(job)).content.decode()
    assert cancel(stranger, job).status_code == 403
    assert GenerationJob.objects.get(pk=job.pk).state == JobState.QUEUED


def test_a_cancel_without_the_csrf_token_is_refused(submitter):
    response = submitter.post(f"{card_url(submitter.job)}/cancel")
    assert response.status_code == 403
    assert GenerationJob.objects.get(pk=submitter.job.pk).state == JobState.QUEUED
    assert submitter.get(f"{card_url(submitter.job)}/cancel").status_code == 405


def test_a_moderator_may_cancel_any_prompts_job(submitter):
    moderator = User.objects.create_user("mia", password="correct horse battery staple")
    moderator.groups.add(Group.objects.get(name="moderators"))
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(moderator)
    assert cancel(browser, submitter.job).status_code == 302
    job = GenerationJob.objects.get(pk=submitter.job.pk)
    assert job.state == JobState.CANCELLED and job.error_message == "cancelled by moderator mia"


def test_a_finished_job_stays_as_it_was(submitter):
    GenerationJob.objects.filter(pk=submitter.job.pk).update(state=JobState.FAILED, error_code="timed_out")
    assert "data-cancel" not in submitter.get(card_url(submitter.job)).content.decode()
    assert cancel(submitter, submitter.job).status_code == 302
    job = GenerationJob.objects.get(pk=submitter.job.pk)
    assert (job.state, job.error_code) == (JobState.FAILED, "timed_out")


def test_a_vendor_result_arriving_after_the_cancel_is_deleted_not_kept(submitter, tmp_path):
    job = jobs.claim(submitter.job.pk, stage=JobState.RUNNING, owner="w1 pid 1")
    assert jobs.cancel(job.pk, by="a test")
    before = set(default_storage.listdir("originals")[1]) if default_storage.exists("originals") else set()
    video = tmp_path / "vendor.mp4"
    video.write_bytes(b"\0" * 1024)
    pipeline._hand_over_to_media(job, GenerationResult(video_path=video, vendor_job_id="v-1"))
    after = set(default_storage.listdir("originals")[1]) if default_storage.exists("originals") else set()
    assert after == before  # stored for the hand-over, then deleted: the job is no longer ours
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and not job.original and not Clip.objects.filter(job=job).exists()


def test_cancelling_during_processing_deletes_the_original_and_makes_no_clip(
    submitter, tmp_path, django_capture_on_commit_callbacks
):
    original = tmp_path / "original.mp4"
    original.write_bytes(b"\0" * 1024)
    name = store(original, "originals", ".mp4")
    GenerationJob.objects.filter(pk=submitter.job.pk).update(state=JobState.PROCESSING, original=name)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.cancel(submitter.job.pk, by="a test")
    assert not default_storage.exists(name)
    pipeline.media_step(submitter.job.pk, owner="m1 pid 1")  # a media message still on its way
    job = GenerationJob.objects.get(pk=submitter.job.pk)
    assert (job.state, job.original.name) == (JobState.CANCELLED, "")
    assert not Clip.objects.filter(job=job).exists()


def test_the_api_cancels_for_the_submitting_client_only(submitter):
    job = submitter.job
    url = f"/api/v1/prompts/{job.prompt.public_id}/jobs/demo-x/cancel"
    refused = Client().post(url)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "cancel_not_allowed"
    assert GenerationJob.objects.get(pk=job.pk).state == JobState.QUEUED
    response = submitter.post(url)  # an API client: no CSRF token, its submission cookie only
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "cancelled" and body["error"]["code"] == "cancelled_by_user"
    again = submitter.post(url)
    assert again.status_code == 409 and again.json()["error"]["code"] == "job_finished"
    assert submitter.post(f"/api/v1/prompts/{job.prompt.public_id}/jobs/nope/cancel").status_code == 404
