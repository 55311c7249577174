"""The admin's job actions (issue 12, item 1c): retry and cancel change jobs (retry spends
money at a vendor), so they need the change permission, and a job of a held or rejected prompt
is never sent to a vendor again, whatever path brings it to a worker."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from tests.conftest import record_sent
from webapp.policy.states import ModerationState
from webapp.studio.models import GenerationJob, JobState, Prompt
from webapp.studio.services import pipeline

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/studio/generationjob/"


@pytest.fixture
def sent(monkeypatch):
    messages = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args[0])))
    return messages


def failed_job(demo_models, moderation=ModerationState.ALLOWED) -> GenerationJob:
    prompt = Prompt.objects.create(text="a cat", seed=1, duration_s=2, aspect_ratio="16:9", moderation=moderation)
    return GenerationJob.objects.create(
        prompt=prompt, model=demo_models[0], state=JobState.FAILED, attempts=3, finished_at=timezone.now()
    )


def staff(*codenames) -> Client:
    user = User.objects.create_user("staff-" + "-".join(codenames), password="a-long-staff-password-9", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def run_action(client, action, job):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [job.pk]}, follow=True)


@pytest.mark.parametrize("action", ["retry", "cancel"])
def test_a_staff_user_who_may_only_view_jobs_cannot_run_the_actions(demo_models, sent, action):
    job = failed_job(demo_models)
    if action == "cancel":
        GenerationJob.objects.filter(pk=job.pk).update(state=JobState.QUEUED)
    viewer = staff("view_generationjob")
    page = viewer.get(CHANGELIST)
    assert page.status_code == 200 and 'value="retry"' not in page.content.decode()
    run_action(viewer, action, job)
    assert GenerationJob.objects.get(pk=job.pk).state == (JobState.FAILED if action == "retry" else JobState.QUEUED)
    assert sent == []


def test_a_staff_user_who_may_change_jobs_retries_a_failed_one(demo_models, sent, django_capture_on_commit_callbacks):
    job = failed_job(demo_models)
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(staff("view_generationjob", "change_generationjob"), "retry", job)
    assert "1 job(s) queued again." in response.content.decode()
    assert GenerationJob.objects.get(pk=job.pk).state == JobState.QUEUED and sent == [("studio.generate", job.pk)]


@pytest.mark.parametrize("moderation", [ModerationState.REJECTED, ModerationState.HELD])
def test_retry_refuses_jobs_of_prompts_that_are_not_allowed(
    demo_models, sent, moderation, django_capture_on_commit_callbacks
):
    job = failed_job(demo_models, moderation)
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(staff("view_generationjob", "change_generationjob"), "retry", job)
    assert "not retried: their prompt is held or rejected" in response.content.decode()
    assert GenerationJob.objects.get(pk=job.pk).state == JobState.FAILED and sent == []


def test_a_worker_never_sends_a_rejected_prompt_to_the_vendor(demo_models, media_root, sent):
    """A queued job whose prompt was rejected meanwhile (an old message, a retry before this
    fix): the generate step cancels it before calling the backend."""
    job = failed_job(demo_models, ModerationState.REJECTED)
    GenerationJob.objects.filter(pk=job.pk).update(state=JobState.QUEUED, attempts=0)
    pipeline.generate_step(job.pk, owner="test pid 1")
    job.refresh_from_db()
    assert (job.state, job.error_code, job.vendor_job_id, job.original.name) == (
        JobState.CANCELLED,
        "prompt_not_allowed",
        "",
        "",
    )
    assert not any(media_root.rglob("*.mp4")) and sent == []
