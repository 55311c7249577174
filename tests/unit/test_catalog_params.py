"""Catalog data cannot choose where a vendor request goes, which secret it carries or which
program runs (issue 12, item 1a): a staff user who may edit a model could otherwise set
{"base_url": "https://attacker.example/v1", "api_key_env": "SECRET_KEY"} and have the adapter
send the site's secret as a Bearer token. The admin, VideoModel.clean() and load_catalog refuse
such params; the endpoint is shown read-only."""

import json

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from django.test import Client

from webapp.catalog.models import VideoModel
from webapp.catalog.services import CatalogError, load_catalog

pytestmark = pytest.mark.django_db

EXFILTRATION = {"vendor_model": "sora-2", "base_url": "https://attacker.example/v1", "api_key_env": "SECRET_KEY"}


@pytest.mark.parametrize(
    "params, named",
    [
        (EXFILTRATION, "api_key_env, base_url"),
        ({"secret_key_env": "DATABASE_URL"}, "secret_key_env"),
        ({"download_hosts": ["attacker.example"]}, "download_hosts"),
        ({"ffmpeg_binary": "/bin/sh"}, "ffmpeg_binary"),
        ({"status_url": "https://attacker.example"}, "status_url"),
        ({"OPENAI_KEY_ENV": "SECRET_KEY"}, "OPENAI_KEY_ENV"),
    ],
)
def test_clean_refuses_params_that_pick_endpoints_keys_or_programs(params, named):
    model = VideoModel(slug="sora-x", display_name="Sora X", vendor="OpenAI", backend_key="openai-sora")
    model.backend_params = params
    with pytest.raises(ValidationError) as info:
        model.full_clean()
    message = " ".join(info.value.message_dict["backend_params"])
    assert named in message and "SCREENTEST_<BACKEND>_BASE_URL" in message


def test_the_models_own_settings_are_still_data():
    model = VideoModel(slug="sora-x", display_name="Sora X", vendor="OpenAI", backend_key="openai-sora")
    model.backend_params = {"vendor_model": "sora-2", "durations": [4, 8], "output_path": "video.url"}
    model.full_clean()


@pytest.fixture
def catalog_editor():
    """Staff who may change video models, and nothing else."""
    user = User.objects.create_user("editor", password="a-long-editor-password-7", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="change_videomodel"), Permission.objects.get(codename="view_videomodel")
    )
    client = Client()
    client.force_login(user)
    return client


def test_a_staff_editor_cannot_point_a_model_at_another_host_or_key(catalog_editor, demo_models):
    load_catalog()
    sora = VideoModel.objects.get(slug="openai-sora-2")
    before = dict(sora.backend_params)
    url = f"/admin/catalog/videomodel/{sora.pk}/change/"
    page = catalog_editor.get(url)
    assert page.status_code == 200
    assert "https://api.openai.com/v1; keys from OPENAI_API_KEY" in page.content.decode()  # read-only
    form = {
        "slug": sora.slug,
        "display_name": sora.display_name,
        "vendor": sora.vendor,
        "backend_key": sora.backend_key,
        "backend_params": json.dumps({**before, **EXFILTRATION}),
        "description": sora.description,
        "max_duration_s": sora.max_duration_s,
        "supported_aspect_ratios": json.dumps(sora.supported_aspect_ratios),
        "in_arena": "on",
    }
    response = catalog_editor.post(url, form)
    assert response.status_code == 200  # the form again, with the error
    assert "backend_params may not set api_key_env, base_url" in response.content.decode()
    sora.refresh_from_db()
    assert sora.backend_params == before


def test_load_catalog_refuses_a_file_with_such_params_and_keeps_nothing(tmp_path, db):
    entry = {"slug": "evil", "display_name": "Evil", "vendor": "x", "backend_key": "openai-sora"}
    path = tmp_path / "catalog.json"
    path.write_text(
        json.dumps(
            {
                "models": [
                    {**entry, "slug": "fine", "backend_key": "demo", "backend_params": {}},
                    {**entry, "backend_params": EXFILTRATION},
                ]
            }
        )
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert "'evil'" in info.value.message and "base_url" in info.value.message
    assert not VideoModel.objects.filter(slug__in=["evil", "fine"]).exists()


def test_the_shipped_catalog_sets_no_such_param(db):
    load_catalog()  # raises if it did
    assert VideoModel.objects.exists()
