"""The S3 media storage unreachable while a job stores its original or its renditions (a real
S3-compatible server behind a proxy that refuses connections, tests/integration/s3_server.py):
the job is retried as `storage_unavailable` with its original kept, fails with that code only
when its attempts are used up, and leaves no object that no row names."""

import pytest
from django.core.files.storage import default_storage

from benchmarks import fault_checks
from tests.conftest import record_sent, stored_files
from tests.integration.s3_server import behind_proxy, s3_proxy, s3_server  # noqa: F401  (fixtures)
from webapp.core.storage import STORAGE_UNAVAILABLE, failure_code, store
from webapp.studio.models import Clip, GenerationJob, JobState, UndeletedFile
from webapp.studio.public_errors import public_message
from webapp.studio.services import jobs, pipeline, undeleted
from webapp.studio.services.submission import PromptInput, submit_prompt
from webapp.studio.tasks import reap_stale_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    messages = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args and args[0], countdown)))
    return messages


@pytest.fixture
def on_s3(settings, media_root, s3_server, s3_proxy):
    """Media in the bucket, reached through the proxy the test cuts."""
    settings.STORAGES = {**settings.STORAGES, "default": behind_proxy(s3_server, s3_proxy).storage_setting()}
    return s3_proxy


def _job(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        prompt = submit_prompt(PromptInput(text="a storm over the harbour", models=["demo-aurora"], seed=4))
    return prompt.jobs.get()


def _run(step, job, django_capture_on_commit_callbacks, owner="w pid 1"):
    with django_capture_on_commit_callbacks(execute=True):
        step(job.pk, owner=owner)
    job.refresh_from_db()
    return job


def test_storing_with_the_bucket_unreachable_is_storage_unavailable(on_s3, tmp_path):
    on_s3.cut()
    local = tmp_path / "web.mp4"
    local.write_bytes(b"not stored")
    with pytest.raises(Exception) as raised:
        store(local, "clips", ".mp4")
    assert failure_code(raised.value) == STORAGE_UNAVAILABLE


def test_an_outage_while_storing_the_original_is_retried_then_ends_as_storage_unavailable(
    demo_models, on_s3, sent, settings, media_root, django_capture_on_commit_callbacks
):
    settings.JOB_MAX_ATTEMPTS = 2
    job = _job(django_capture_on_commit_callbacks)
    on_s3.cut()
    job = _run(pipeline.generate_step, job, django_capture_on_commit_callbacks)
    assert (job.state, job.error_code) == (JobState.QUEUED, STORAGE_UNAVAILABLE), job.error_message
    assert sent[-1][0] == "studio.generate" and sent[-1][2] == 10  # backoff, as for any retry
    assert public_message(job.error_code, final=False) != public_message("no such code", final=False)

    job = _run(pipeline.generate_step, job, django_capture_on_commit_callbacks)  # still down: out of attempts
    assert (job.state, job.error_code) == (JobState.FAILED, STORAGE_UNAVAILABLE), job.error_message
    assert public_message(job.error_code, final=True) != public_message("no such code", final=True)
    on_s3.restore()
    assert fault_checks.orphan_files(media_root) == [] and stored_files(settings.WORK_DIR) == []


def test_an_outage_between_the_renditions_leaves_no_orphan_and_the_retry_makes_one_clip(
    demo_models, on_s3, sent, settings, media_root, monkeypatch, django_capture_on_commit_callbacks
):
    job = _run(pipeline.generate_step, _job(django_capture_on_commit_callbacks), django_capture_on_commit_callbacks)
    assert job.state == JobState.PROCESSING and job.original.name in fault_checks.referenced_files()

    real_store = pipeline.store

    def store_then_lose_the_bucket(path, folder, suffix):  # the outage starts right after the rendition is stored
        name = real_store(path, folder, suffix)
        if folder == "clips":
            on_s3.cut()
        return name

    monkeypatch.setattr(pipeline, "store", store_then_lose_the_bucket)
    job = _run(pipeline.media_step, job, django_capture_on_commit_callbacks, owner="m pid 1")
    assert (job.state, job.error_code) == (JobState.PROCESSING, STORAGE_UNAVAILABLE), job.error_message
    assert job.original.name and not Clip.objects.exists()  # the original is kept for the retry
    monkeypatch.setattr(pipeline, "store", real_store)

    on_s3.restore()
    # The rendition stored before the outage could not be deleted while the bucket was away;
    # the reaper deletes it once the bucket answers again.
    [noted] = UndeletedFile.objects.values_list("name", flat=True)
    assert fault_checks.orphan_objects() == [f"s3://{settings.STORAGES['default']['OPTIONS']['bucket_name']}/{noted}"]
    assert reap_stale_jobs()["undeleted_files_deleted"] == 1
    assert fault_checks.orphan_objects() == [] and not UndeletedFile.objects.exists()

    GenerationJob.objects.filter(pk=job.pk).update(lease_expires_at=None)  # the retry's countdown is over
    job = _run(pipeline.media_step, job, django_capture_on_commit_callbacks, owner="m pid 2")
    assert job.state == JobState.SUCCEEDED, job.error_message
    clip = Clip.objects.get(job=job)
    assert {clip.original.name, clip.web.name, clip.poster.name} <= {
        n for n in fault_checks.referenced_files() if default_storage.exists(n)
    }
    assert fault_checks.orphan_files(media_root) == []
    assert jobs.reap_stale_jobs() == {"resent": 0, "failed": 0}


def test_operators_see_the_files_left_to_delete(admin_client):
    UndeletedFile.objects.create(name="clips/left-by-an-outage.mp4")
    page = admin_client.get("/admin/studio/undeletedfile/")
    assert page.status_code == 200 and "clips/left-by-an-outage.mp4" in page.content.decode()
    assert admin_client.get("/admin/studio/undeletedfile/add/").status_code == 403


def test_a_file_the_storage_keeps_refusing_does_not_block_the_others(media_root, monkeypatch):
    (media_root / "clips").mkdir()
    for name in ("clips/a.mp4", "clips/b.mp4"):
        (media_root / name).write_bytes(b"x")
    refused = UndeletedFile.objects.create(name="clips/refused.mp4", tries=3)
    UndeletedFile.objects.create(name="clips/a.mp4")
    UndeletedFile.objects.create(name="clips/b.mp4")
    real_delete = default_storage.delete

    def delete(name):
        if name == refused.name:
            raise PermissionError(name)
        real_delete(name)

    monkeypatch.setattr(default_storage, "delete", delete)
    assert undeleted.retry_deletions() == 2
    assert list(UndeletedFile.objects.values_list("name", "tries")) == [("clips/refused.mp4", 4)]
    assert stored_files(media_root) == []
