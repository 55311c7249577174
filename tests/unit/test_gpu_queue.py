"""Jobs of models on our own GPUs (backend "diffusers") go to the gpu queue, report their
steps to the job card and learn between steps that they are no longer theirs to finish."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from tests.conftest import record_sent
from tests.tiny_diffusers import TINY_PARAMS, saved_tiny_wan
from webapp.catalog.models import VideoModel
from webapp.studio.models import GenerationJob, JobState
from webapp.studio.services import jobs, pipeline
from webapp.studio.services.submission import PromptInput, submit_prompt
from workers.backends import diffusers_local

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    messages = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args[0])))
    return messages


def submit(slug: str, callbacks) -> GenerationJob:
    with callbacks(execute=True):
        prompt = submit_prompt(PromptInput(text="a red cat on the beach", models=[slug], duration_s=1, seed=3))
    return prompt.jobs.get()


def submit_and_generate(slug: str, sent: list, callbacks) -> GenerationJob:
    """Submit a prompt for `slug`, forget the message the submission sent, run the generate step
    as a gpu worker would; the job as that step left it (`sent` then holds only its messages)."""
    job = submit(slug, callbacks)
    sent.clear()
    with callbacks(execute=True):
        pipeline.generate_step(job.pk, owner="gpu0@host pid 1")
    job.refresh_from_db()
    return job


@pytest.fixture
def local_model(tmp_path):
    return VideoModel.objects.create(
        slug="tiny-wan",
        display_name="Tiny Wan",
        vendor="tests",
        backend_key="diffusers",
        max_duration_s=2,
        supported_aspect_ratios=["16:9", "9:16"],
        backend_params={**TINY_PARAMS, "model_path": str(tmp_path / "tiny-wan")},
    )


def test_local_models_go_to_the_gpu_queue_and_vendor_models_do_not(
    local_model, sent, django_capture_on_commit_callbacks
):
    VideoModel.objects.create(
        slug="demo-x", display_name="X", vendor="demo", backend_key="demo", backend_params={"fps": 12}
    )
    local_job = submit("tiny-wan", django_capture_on_commit_callbacks)
    demo_job = submit("demo-x", django_capture_on_commit_callbacks)
    assert ("studio.generate_local", local_job.pk) in sent
    assert ("studio.generate", demo_job.pk) in sent
    assert ("studio.generate", local_job.pk) not in sent


def test_progress_reaches_the_job_card_and_a_cancelled_job_stops(
    local_model, sent, client, django_capture_on_commit_callbacks
):
    job = submit("tiny-wan", django_capture_on_commit_callbacks)
    job = jobs.claim(job.pk, stage=JobState.RUNNING, owner="gpu0@host pid 1")
    hooks = pipeline.local_model_hooks(job)
    hooks["on_progress"](3, 50)
    assert GenerationJob.objects.get(pk=job.pk).vendor_metadata == {"progress": {"steps_done": 3, "steps": 50}}
    card = client.get(f"/p/{job.prompt.public_id}").content.decode()
    assert "step 3 of 50" in card
    assert hooks["should_cancel"]() is False
    # Whoever ends the job (a moderator, the reaper handing it to another worker) takes it from us.
    GenerationJob.objects.filter(pk=job.pk).update(state=JobState.CANCELLED, lease_owner="")
    assert hooks["should_cancel"]() is True


def test_vendor_jobs_get_no_local_hooks(sent, django_capture_on_commit_callbacks):
    VideoModel.objects.create(
        slug="demo-y", display_name="Y", vendor="demo", backend_key="demo", backend_params={"fps": 12}
    )
    job = submit("demo-y", django_capture_on_commit_callbacks)
    assert pipeline.local_model_hooks(job) == {}


@pytest.fixture
def saved_local_model(local_model, tmp_path_factory):
    local_model.backend_params = {**TINY_PARAMS, "model_path": str(saved_tiny_wan(tmp_path_factory))}
    local_model.save()
    yield local_model
    diffusers_local.evict_warm()


def test_a_local_job_past_its_models_time_limit_fails_timed_out_without_a_retry_or_a_file(
    saved_local_model, sent, django_capture_on_commit_callbacks
):
    saved_local_model.backend_params = {**saved_local_model.backend_params, "steps": 3, "time_limit_s": 1e-6}
    saved_local_model.save()
    job = submit_and_generate("tiny-wan", sent, django_capture_on_commit_callbacks)
    assert (job.state, job.error_code, job.attempts) == (JobState.FAILED, "timed_out", 1)
    assert "after step 1 of 3" in job.error_message and "time_limit_s" in job.error_message
    assert job.public_error == "The model took too long to answer."
    assert not job.original and sent == []  # nothing stored, nothing sent again


def test_the_workers_soft_time_limit_ends_a_local_job_for_good_and_drops_the_pipeline(
    saved_local_model, sent, django_capture_on_commit_callbacks, monkeypatch
):
    def soft_limit_strikes(job, done, total):  # Celery raises it wherever the task's Python is
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(pipeline.jobs, "record_progress", soft_limit_strikes)
    job = submit_and_generate("tiny-wan", sent, django_capture_on_commit_callbacks)
    assert (job.state, job.error_code, job.attempts) == (JobState.FAILED, "timed_out", 1)
    assert "JOB_SOFT_TIME_LIMIT_S" in job.error_message and sent == []
    assert diffusers_local._WARM == {}
