"""What a person reads is words: no Python dict text, no slugs, no setting or field names
(issue 14, item 6), and the leaderboard explains its colours and "preliminary" (item 8)."""

import re

import pytest
from django.contrib.auth.models import User

from tests.unit.test_board import add_votes
from webapp.arena.services import board
from webapp.moderation import decisions
from webapp.studio.models import Clip, Prompt
from webapp.studio.services.submission import PromptInput, submit_prompt

pytestmark = pytest.mark.django_db


def visible_text(html: str) -> str:
    """The page without its tags and attribute values: what a reader sees."""
    return re.sub(r"<[^>]*>", " ", html)


@pytest.fixture
def moderator_client(client):
    client.force_login(User.objects.create_superuser("mo", "mo@localhost", "a long passphrase here"))
    return client


def test_the_audit_log_and_a_clip_page_show_words_not_dict_text(moderator_client, make_clips):
    prompt = make_clips(prompts=1)[0]
    clip, shown = Clip.objects.filter(job__prompt=prompt)[:2]
    decisions.hide_clip(clip.public_id, actor=User.objects.get(), reason="Shows a real person")
    submit_prompt(PromptInput(text="Elon Musk riding a horse on Mars", duration_s=2, seed=1))
    audit = visible_text(moderator_client.get("/moderation/audit").content.decode())
    assert "{'" not in audit and "{&#x27;" not in audit and "[&#x27;" not in audit, audit
    assert "hidden: yes" in audit and "hidden: no" in audit
    clip_page = visible_text(moderator_client.get(f"/c/{shown.public_id}").content.decode())
    assert "{&#x27;" not in clip_page and "{'" not in clip_page
    assert "render scale" in clip_page  # a demo model's settings, in words


def test_categories_are_words_on_the_gallery_and_the_leaderboard(client, make_clips, demo_models, settings):
    make_clips(prompts=1, category="long_range_consistency")
    gallery = visible_text(client.get("/").content.decode())
    assert "long_range_consistency" not in gallery and "Long range consistency" in gallery
    settings.LEADERBOARD_MIN_VOTES = 1
    add_votes(demo_models[0], demo_models[1], a_wins=3, b_wins=1, category="camera_motion")
    board.recompute("official", "camera_motion")
    leaderboard = visible_text(client.get("/leaderboard").content.decode())
    assert "Camera_motion" not in leaderboard and "camera_motion" not in leaderboard
    assert "Camera motion" in leaderboard


def test_the_leaderboard_names_no_setting_and_explains_preliminary_and_colours(client, demo_models, settings):
    settings.LEADERBOARD_MIN_VOTES = 50
    add_votes(demo_models[0], demo_models[1], a_wins=3, b_wins=1)
    board.recompute("official")
    empty = client.get("/leaderboard").content.decode()
    assert "LEADERBOARD_MIN_VOTES" not in empty and "once it has 50 counted votes" in empty
    settings.LEADERBOARD_MIN_VOTES, settings.LEADERBOARD_PRELIMINARY_BELOW = 2, 100
    board.recompute("official")
    page = client.get("/leaderboard").content.decode()
    assert "preliminary" in page and "fewer than 100" in page
    legends = re.findall(r"data-heatmap-legend>(.*?)</p>", page, re.S)
    assert len(legends) == 2 and all(legend.count('class="swatch') == 11 for legend in legends)
    assert "0% (row model always lost)" in legends[0] and "100% (always won)" in legends[0]


def test_a_form_error_names_the_field_as_the_form_does(client, demo_models):
    response = client.post(
        "/new", {"text": "A fox", "models": [m.slug for m in demo_models], "duration_s": "inf", "aspect_ratio": "16:9"}
    )
    page = visible_text(response.content.decode())
    assert response.status_code == 400
    assert "duration_s" not in page and "The duration (in seconds) must be a number" in page
    assert not Prompt.objects.exists()


def test_a_vote_that_does_not_count_says_why_in_words(client, make_clips, settings):
    from tests.unit.test_votes import WATCHED, serve

    settings.ARENA_REQUIRE_LOGIN = True
    make_clips(prompts=1)
    _, token = serve(client)
    reveal = client.post("/arena/vote", {"token": token, "choice": "left", **WATCHED}, HTTP_HX_REQUEST="true")
    text = visible_text(reveal.content.decode())
    assert "login_required" not in text and "counts only logged-in voters" in text


def test_model_pages_name_no_backend_key(client):
    from webapp.catalog.services import load_catalog

    load_catalog()
    listing = visible_text(client.get("/models").content.decode())
    assert "openai-sora" not in listing and "vendor API" in listing
    page = visible_text(client.get("/models/runway-gen4-5").content.decode())
    assert "generated through Runway's API" in page


def test_nothing_says_0_minutes_ago(moderator_client, make_clips):
    prompt = make_clips(prompts=1)[0]
    clip = Clip.objects.filter(job__prompt=prompt).first()
    from webapp.moderation import services as reports

    reports.report(reporter_key="r", reason="other", clip=clip)
    for url in ("/", f"/p/{prompt.public_id}", "/moderation/"):
        page = visible_text(moderator_client.get(url).content.decode())
        assert "0 minutes" not in page and "just now" in page, url
