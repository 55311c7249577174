import json

import pytest

from tests.conftest import record_sent
from webapp.studio.models import GenerationJob, Prompt

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    record_sent(monkeypatch, lambda *a: None)


def post(client, body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/api/v1/prompts", data=data, content_type=content_type)


def test_submit_and_read_back(client, demo_models):
    response = post(
        client,
        {
            "prompt": "a red kite over the sea",
            "models": ["demo-aurora", "demo-pixel"],
            "duration_s": 3,
            "aspect_ratio": "1:1",
            "seed": 9,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"].endswith(f"/api/v1/prompts/{body['id']}")
    assert body["prompt"] == "a red kite over the sea" and body["seed"] == 9 and body["complete"] is False
    assert [(j["model"], j["state"], j["clip"]) for j in body["jobs"]] == [
        ("demo-aurora", "queued", None),
        ("demo-pixel", "queued", None),
    ]
    assert all(j["procedural_demo"] and "procedural demo" in j["model_name"] for j in body["jobs"])
    again = client.get(f"/api/v1/prompts/{body['id']}")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    listing = client.get("/api/v1/prompts").json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == body["id"]


@pytest.mark.parametrize(
    "body, content_type, status, code",
    [
        ("{not json", "application/json", 400, "malformed_json"),
        (b"\xff\xfe", "application/json", 400, "malformed_json"),
        ("[1, 2]", "application/json", 400, "malformed_json"),
        ("", "application/json", 400, "malformed_json"),
        ("prompt=hi", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ({"prompt": "hi", "model": ["demo-aurora"]}, "application/json", 400, "unknown_field"),
        ({"prompt": ""}, "application/json", 422, "prompt_empty"),
        ({"prompt": "x" * 5000}, "application/json", 422, "prompt_too_long"),
        ({"prompt": "hi", "models": ["nope"]}, "application/json", 422, "unknown_model"),
        ({"prompt": "hi", "duration_s": 99}, "application/json", 422, "duration_out_of_range"),
        ({"prompt": "hi", "seed": "abc"}, "application/json", 422, "invalid_type"),
    ],
)
def test_bad_requests_get_a_code_and_write_nothing(client, demo_models, body, content_type, status, code):
    response = post(client, body, content_type)
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert Prompt.objects.count() == 0 and GenerationJob.objects.count() == 0


def test_disabled_model_via_api(client, demo_models):
    demo_models[0].enabled = False
    demo_models[0].save()
    response = post(client, {"prompt": "hi", "models": [demo_models[0].slug]})
    assert response.status_code == 422 and response.json()["error"]["code"] == "model_disabled"
    assert response.json()["error"]["field"] == "models"


def test_not_found_and_wrong_method_are_json(client, demo_models):
    missing = client.get("/api/v1/prompts/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/nothing-here").json()["error"]["code"] == "not_found"
    wrong = client.delete("/api/v1/prompts")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert client.get("/api/v1/prompts?page=0").json()["error"]["code"] == "invalid_page"
    assert client.get("/api/v1/prompts?page=9").status_code == 404


def test_models_endpoint_lists_enabled_models_labelled(client, demo_models):
    models = client.get("/api/v1/models").json()["models"]
    assert {m["slug"] for m in models} == {"demo-aurora", "demo-lumen", "demo-pixel"}
    assert all(m["procedural_demo"] and "procedural demo" in m["name"] for m in models)
