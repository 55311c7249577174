"""The S3 media storage goes away while a real worker runs a job (issue 16): the bucket is
served by a real S3-compatible server process that the worker reaches through a proxy, cut
while the job is running (connections refused, as for a stopped server) and given back later
with its objects intact. The job waits the outage out as `storage_unavailable`, then ends with
exactly one clip, and neither the bucket nor a disk keeps a file that no row names."""

import pytest

from benchmarks import fault_checks
from tests.conftest import stored_files
from webapp.studio.models import Clip, GenerationJob, JobState

from .conftest import require_test_stack, wait_for
from .s3_server import behind_proxy, s3_proxy, s3_server  # noqa: F401  (fixtures)
from .test_pipeline_end_to_end import slow_demo_model, submit_one

pytestmark = pytest.mark.integration


def test_a_job_waits_out_an_s3_outage_and_ends_with_one_clip(client, celery_procs, s3_server, s3_proxy, settings):
    require_test_stack()
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_setting()}  # the checks see the bucket
    slow_demo_model(latency_s=2.0)
    worker = celery_procs.worker(
        "s3-outage@localhost", env={**behind_proxy(s3_server, s3_proxy).environment(), "JOB_MAX_ATTEMPTS": "5"}
    )
    job = submit_one(client, "demo-slow")

    def row() -> GenerationJob:
        return GenerationJob.objects.get(pk=job.pk)

    wait_for(lambda: row().state == JobState.RUNNING, timeout=60, what="the job to start", logs=worker.log)
    s3_proxy.cut()  # the bucket goes away while the backend renders
    wait_for(
        lambda: row().error_code == "storage_unavailable",
        timeout=60,
        what="the outage to be recorded as storage_unavailable",
        logs=worker.log,
    )
    during = row()
    assert during.state == JobState.QUEUED and not during.original  # waiting for its retry, nothing stored
    s3_proxy.restore()

    wait_for(lambda: row().is_terminal, timeout=90, what="the job after the outage", logs=worker.log)
    done = row()
    assert done.state == JobState.SUCCEEDED, (done.error_code, done.error_message)
    assert done.attempts >= 2 and Clip.objects.filter(job=done).count() == 1
    wait_for(
        lambda: Clip.objects.get(job=done).measurements_version > 0,
        timeout=60,
        what="the clip's measurements (the worker's last scratch use)",
        logs=worker.log,
    )
    clip = Clip.objects.get(job=done)
    assert {clip.original.name, clip.web.name, clip.poster.name} <= s3_server.keys()
    assert fault_checks.orphan_files(settings.MEDIA_ROOT) == []
    assert stored_files(settings.WORK_DIR) == []
