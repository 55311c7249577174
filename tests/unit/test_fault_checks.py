"""The fault harness's end checks (benchmarks/fault_checks.py): an orphan is a stored file no
row names, on disk under MEDIA_ROOT and, when media storage is S3, in the bucket (a real
S3-compatible server process, tests/integration/s3_server.py)."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from benchmarks import fault_checks
from tests.integration.s3_server import s3_server  # noqa: F401  (fixture)
from webapp.core.storage import opaque_name
from webapp.studio.models import GenerationJob
from webapp.studio.services.submission import PromptInput, submit_prompt

pytestmark = pytest.mark.django_db


def test_orphans_in_the_bucket_are_counted_beside_those_on_disk(
    demo_models, media_root, settings, s3_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        prompt = submit_prompt(PromptInput(text="a red kite", models=["demo-aurora"], seed=1))
    stray_on_disk = media_root / "clips" / "stray.mp4"
    stray_on_disk.parent.mkdir()
    stray_on_disk.write_bytes(b"left behind on disk")

    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_setting()}
    named = default_storage.save(opaque_name("originals", ".mp4"), ContentFile(b"an original"))
    GenerationJob.objects.filter(prompt=prompt).update(original=named)
    stray = default_storage.save(opaque_name("clips", ".mp4"), ContentFile(b"a rendition no row names"))
    assert {named, stray} <= s3_server.keys()

    found = fault_checks.orphan_files(media_root)
    assert found == sorted(["clips/stray.mp4", f"s3://{s3_server.bucket}/{stray}"])
    assert fault_checks.orphan_objects() == [f"s3://{s3_server.bucket}/{stray}"]

    default_storage.delete(stray)
    stray_on_disk.unlink()
    assert fault_checks.orphan_files(media_root) == []


def test_no_bucket_is_listed_when_media_is_on_disk(media_root):
    assert fault_checks.orphan_objects() == []
    (media_root / ".partial-0-x.mp4").write_bytes(b"half")
    assert fault_checks.orphan_files(media_root) == [".partial-0-x.mp4"]
