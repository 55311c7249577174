import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import record_sent
from webapp.studio.models import JobState, Prompt

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    record_sent(monkeypatch, lambda *a: None)


def test_form_defaults_to_every_enabled_model_labelled_as_demo(client, demo_models):
    page = client.get("/new").content.decode()
    for model in demo_models:
        assert f'value="{model.slug}"' in page and "checked" in page
    assert page.count("(procedural demo)") == 3


def test_submit_through_the_form_redirects_to_the_live_prompt_page(client, demo_models):
    response = client.post(
        "/new",
        {
            "text": "a blue whale",
            "models": ["demo-aurora", "demo-lumen"],
            "duration_s": "2",
            "aspect_ratio": "16:9",
            "seed": "",
        },
    )
    prompt = Prompt.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/p/{prompt.public_id}"
    page = client.get(response["Location"]).content.decode()
    assert "a blue whale" in page and page.count('hx-trigger="every 1s"') == 2


def test_form_errors_are_shown_and_nothing_is_written(client, demo_models):
    response = client.post("/new", {"text": "   ", "aspect_ratio": "16:9", "models": ["demo-aurora"]})
    assert response.status_code == 400
    assert "cannot be empty" in response.content.decode()
    response = client.post(
        "/new", {"text": "ok", "aspect_ratio": "16:9", "models": ["demo-aurora"], "duration_s": "50"}
    )
    assert "Duration must be between 1 and 12 seconds" in response.content.decode()
    response = client.post("/new", {"text": "ok", "aspect_ratio": "16:9", "models": ["ghost"]})
    assert response.status_code == 400 and "ghost" in response.content.decode()
    assert Prompt.objects.count() == 0


def test_the_form_needs_csrf(demo_models):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/new", {"text": "hi"}).status_code == 403


def test_job_card_stops_polling_when_final(client, demo_models):
    client.post("/new", {"text": "a fox", "models": ["demo-aurora"], "aspect_ratio": "16:9"})
    prompt = Prompt.objects.get()
    job = prompt.jobs.get()
    url = reverse("studio:job_card", args=[prompt.public_id, job.pk])
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    job.state, job.error_code, job.error_message = JobState.FAILED, "auth_failed", "invalid API key"
    job.save()
    final = client.get(url, HTTP_HX_REQUEST="true")
    assert final.status_code == 286 and "This model is not available right now." in final.content.decode()
    assert "invalid API key" not in final.content.decode()  # raw error text: admin and logs only
    assert "hx-trigger" not in final.content.decode()
    assert client.get(reverse("studio:job_card", args=["other", job.pk])).status_code == 404


def test_gallery_paginates_with_a_constant_number_of_queries(client, demo_models, django_assert_max_num_queries):
    for i in range(30):
        client.post("/new", {"text": f"prompt {i}", "aspect_ratio": "16:9", "models": ["demo-aurora", "demo-lumen"]})
    with django_assert_max_num_queries(6):
        first = client.get("/")
    assert first.status_code == 200 and "Page 1 of 3" in first.content.decode()
    assert "prompt 29" in first.content.decode()
    with django_assert_max_num_queries(6):
        last = client.get("/?page=3")
    assert "prompt 0" in last.content.decode()
    assert client.get("/?page=999").status_code == 200  # clamps to the last page


def test_unknown_prompt_page_is_a_404_page(client, db):
    response = client.get("/p/does-not-exist")
    assert response.status_code == 404 and b"Not found" in response.content


def test_models_page_and_healthz(client, demo_models):
    assert "procedural demo" in client.get("/models").content.decode()
    assert client.get("/healthz").content == b"ok"
