"""The catalog cannot ask for the impossible, and people are told what each model can make:
load_catalog and the admin refuse entries outside what the adapter declares; the prompt form
and API refuse models that must not be asked (retired, an aspect they cannot make) and say how
the others' clips will differ; retired models are marked where they are shown."""

import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command

from webapp.catalog.models import VideoModel
from webapp.catalog.services import CatalogError, load_catalog, load_claims
from webapp.studio.models import Prompt

pytestmark = pytest.mark.django_db

RAY_2 = {"vendor_model": "ray-2", "durations": [5, 9]}


def catalog_file(tmp_path, **entry):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"models": [{"display_name": "X", "vendor": "Y", **entry}]}))
    return path


def test_load_catalog_refuses_an_entry_its_adapter_cannot_honour_naming_it(tmp_path):
    impossible = {**RAY_2, "durations": [4, 5]}
    path = catalog_file(tmp_path, slug="luma-four", backend_key="luma", backend_params=impossible)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert "luma-four" in info.value.message and "offers 4 s" in info.value.message
    assert not VideoModel.objects.filter(slug="luma-four").exists()
    square = catalog_file(
        tmp_path, slug="minimax-square", backend_key="replicate", supported_aspect_ratios=["16:9", "1:1"],
        backend_params={"model": "minimax/video-01", "durations": [6], "sizes": {"16:9": [1280, 720]}},
    )  # fmt: skip
    with pytest.raises(CatalogError, match="minimax-square.*1:1"):
        load_catalog(square)


def test_the_shipped_catalog_loads_and_an_admin_edit_is_held_to_the_same_rule():
    load_catalog()
    ray = VideoModel.objects.get(slug="luma-ray-2")
    ray.backend_params = {**ray.backend_params, "durations": [5, 7]}
    with pytest.raises(ValidationError) as info:
        ray.full_clean()
    assert "offers 7 s" in str(info.value.message_dict["backend_params"])


@pytest.fixture
def vendors_enabled(demo_models):
    VideoModel.objects.filter(slug__in=["luma-ray-2", "openai-sora-2", "runway-gen4-5"]).update(enabled=True)


def submit(client, **data):
    return client.post("/api/v1/prompts", data={"prompt": "a kite over dunes", **data}, content_type="application/json")


def test_a_retired_model_or_an_impossible_aspect_is_refused_naming_each_model(client, vendors_enabled):
    answer = submit(client, models=["openai-sora-2", "demo-aurora"], duration_s=4)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "models_cannot_honour" and error["field"] == "models"
    assert list(error["models"]) == ["openai-sora-2"]
    assert "retired by its vendor since 2026-09-24" in error["models"]["openai-sora-2"][0]
    assert "Sora 2" in error["message"]
    answer = submit(client, models=["runway-gen4-5", "demo-aurora"], duration_s=5, aspect_ratio="1:1")
    assert answer.status_code == 422 and "runway-gen4-5 cannot make 1:1" in answer.json()["error"]["message"]
    VideoModel.objects.filter(slug="runway-gen4-5").update(supported_aspect_ratios=[])  # "any", says the entry
    answer = submit(client, models=["runway-gen4-5", "demo-aurora"], duration_s=5, aspect_ratio="1:1")
    assert answer.status_code == 422 and answer.json()["error"]["models"] == {
        "runway-gen4-5": ["cannot make 1:1 (takes 16:9, 9:16)"]
    }  # the adapter's declaration still holds
    assert not Prompt.objects.exists()


def test_how_each_clip_will_differ_from_the_request_is_said_not_refused(client, vendors_enabled):
    answer = submit(client, models=["luma-ray-2", "demo-aurora"], duration_s=4, negative_prompt="blur")
    assert answer.status_code == 201, answer.content
    jobs = {job["model"]: job for job in answer.json()["jobs"]}
    assert jobs["luma-ray-2"]["differs_from_request"] == [
        "cannot make 4 s (takes 5, 9 s): will make 5 s",
        "takes no seed: its results are not reproducible",
        "takes no negative prompt: it is not sent",
    ]
    assert jobs["demo-aurora"]["differs_from_request"] == []
    page = client.get(answer.json()["url"]).content.decode()
    assert "Luma Ray 2 cannot make 4 s (takes 5, 9 s): will make 5 s" in page


def test_the_form_says_what_each_model_takes(client, vendors_enabled):
    page = client.get("/new").content.decode()
    assert "Luma Ray 2 (5, 9 s; 16:9, 9:16; silent; no seed; no negative prompt)" in page
    assert "(1-12 s; 16:9, 9:16, 1:1; silent)" in page  # a demo model, within its entry's limit
    assert "Aurora (procedural demo) (1-12 s; 16:9, 9:16, 1:1; sound)" in page  # the demo model with sound


def test_a_retired_model_is_marked_on_its_page_the_feature_table_and_the_backends_command(client, demo_models):
    load_claims()
    page = client.get("/models/openai-sora-2").content.decode()
    assert "retired by its vendor since 2026-09-24" in page and "openai/openai-python" in page
    table = client.get("/models/compare").content.decode()
    assert "data-retired" in table and "retired 2026-09-24" in table
    out = StringIO()
    call_command("backends", stdout=out)
    assert "retired: openai-sora-2 since 2026-09-24" in out.getvalue()
    assert "retired" not in client.get("/models/luma-ray-2").content.decode().lower()


def test_a_staff_user_sees_the_refusal_in_the_admin(client, demo_models):
    load_catalog()
    client.force_login(User.objects.create_superuser("root", "r@example.com", "pw-123456789"))
    ray = VideoModel.objects.get(slug="luma-ray-2")
    form = client.get(f"/admin/catalog/videomodel/{ray.pk}/change/").context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        backend_params=json.dumps({**ray.backend_params, "durations": [5, 7]}), supported_aspect_ratios='["16:9"]'
    )
    answer = client.post(f"/admin/catalog/videomodel/{ray.pk}/change/", data)
    assert answer.status_code == 200 and "offers 7 s" in answer.content.decode()
    ray.refresh_from_db()
    assert ray.backend_params["durations"] == [5, 9]
