"""Jobs of models on our own GPUs (backend "diffusers") go to the gpu queue, report their
steps to the job card and learn between steps that they are no longer theirs to finish."""

import pytest

from tests.conftest import record_sent
from tests.tiny_diffusers import TINY_PARAMS
from webapp.catalog.models import VideoModel
from webapp.studio.models import GenerationJob, JobState
from webapp.studio.services import jobs, pipeline
from webapp.studio.services.submission import PromptInput, submit_prompt

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
