"""What the public may read (issue 12, items 1d and 6): a job's error is a code with a plain
message (never the raw text, which can carry hosts, paths or which staff member cancelled),
and a held or rejected prompt's text is shown to moderators and its own submitter only."""

import json

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from tests.conftest import record_sent
from webapp.studio.models import GenerationJob, JobState, Prompt

pytestmark = pytest.mark.django_db

RAW = "HTTPSConnectionPool(host='10.20.0.7', port=443): /srv/screentest/secret-path failed"
HELD_TEXT = "Elon Musk riding a horse on Mars"


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    record_sent(monkeypatch, lambda *a: None)


def moderator_client() -> Client:
    user = User.objects.create_user("mod", password="a-long-moderator-password-3")
    user.user_permissions.add(Permission.objects.get(codename="moderate"))
    client = Client()
    client.force_login(user)
    return client


def submit(client, text) -> str:
    response = client.post(
        "/api/v1/prompts", data=json.dumps({"prompt": text, "models": ["demo-aurora"]}), content_type="application/json"
    )
    assert response.status_code in (201, 202), response.content
    return response.json()["id"]


def test_a_failed_jobs_raw_error_is_not_public(client, demo_models):
    public_id = submit(client, "a red fox in the snow")
    GenerationJob.objects.update(
        state=JobState.FAILED, error_code="vendor_unreachable", error_message=RAW, finished_at=timezone.now()
    )
    api = client.get(f"/api/v1/prompts/{public_id}").json()
    assert api["jobs"][0]["error"] == {"code": "vendor_unreachable", "message": "The vendor could not be reached."}
    page = Client().get(f"/p/{public_id}").content.decode()
    assert "The vendor could not be reached." in page
    for text in (json.dumps(api), page):
        assert "10.20.0.7" not in text and "secret-path" not in text


def test_an_unknown_error_code_gets_a_generic_message(client, demo_models):
    public_id = submit(client, "a red fox in the snow")
    GenerationJob.objects.update(state=JobState.FAILED, error_code="internal_error", error_message="KeyError: 'x'")
    assert client.get(f"/api/v1/prompts/{public_id}").json()["jobs"][0]["error"]["message"] == "The job failed."


def test_who_cancelled_a_job_is_not_public(client, demo_models):
    public_id = submit(client, "a red fox in the snow")
    job = GenerationJob.objects.get()
    admin = User.objects.create_superuser("alice-the-operator", password="a-long-admin-password-5")
    staff = Client()
    staff.force_login(admin)
    staff.post("/admin/studio/generationjob/", {"action": "cancel", "_selected_action": [job.pk]})
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and "alice-the-operator" in job.error_message  # kept for the admin
    assert "alice-the-operator" not in Client().get(f"/p/{public_id}").content.decode()
    api = Client().get(f"/api/v1/prompts/{public_id}").json()
    assert api["jobs"][0]["error"] == {"code": "cancelled", "message": "Cancelled by the arena's operators."}


def test_a_held_prompts_text_is_for_moderators_and_its_submitter(demo_models):
    submitter = Client()
    public_id = submit(submitter, HELD_TEXT)
    assert Prompt.objects.get(public_id=public_id).moderation == "held"
    stranger = Client()
    page = stranger.get(f"/p/{public_id}").content.decode()
    assert HELD_TEXT not in page and "A prompt awaiting review" in page
    assert stranger.get(f"/api/v1/prompts/{public_id}").json()["prompt"] is None
    assert HELD_TEXT in submitter.get(f"/p/{public_id}").content.decode()
    assert submitter.get(f"/api/v1/prompts/{public_id}").json()["prompt"] == HELD_TEXT
    moderator = moderator_client()
    assert HELD_TEXT in moderator.get(f"/p/{public_id}").content.decode()
    assert moderator.get(f"/api/v1/prompts/{public_id}").json()["prompt"] == HELD_TEXT


def test_the_web_forms_submitter_reads_their_held_prompt_by_a_signed_cookie(demo_models):
    """The browser that sent it carries the id in a signed cookie (no database row needed)."""
    submitter = Client()
    response = submitter.post("/new", {"text": HELD_TEXT, "models": ["demo-aurora"], "aspect_ratio": "16:9"})
    prompt = Prompt.objects.get()
    assert response.status_code == 302 and prompt.moderation == "held"
    assert HELD_TEXT in submitter.get(f"/p/{prompt.public_id}").content.decode()
    forged = Client()
    forged.cookies["screentest_submitted"] = prompt.public_id  # unsigned: ignored
    assert HELD_TEXT not in forged.get(f"/p/{prompt.public_id}").content.decode()


def test_a_rejected_prompts_text_is_not_public(client, demo_models):
    public_id = submit(client, "a red fox in the snow")
    Prompt.objects.update(moderation="rejected")
    stranger = Client()
    assert "a red fox in the snow" not in stranger.get(f"/p/{public_id}").content.decode()
    assert stranger.get(f"/api/v1/prompts/{public_id}").json()["prompt"] is None
