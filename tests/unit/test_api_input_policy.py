"""The JSON API's one input policy (webapp/core/validation.py): hostile input gets a specific
4xx code in JSON, never a 500 and never an HTML page (issue 12, item 6)."""

import json

import pytest
from django.test import Client

from tests.arena_support import mark_watched, render
from tests.conftest import record_sent
from tests.unit.test_votes import api_voter
from webapp.arena.models import Battle, Vote
from webapp.arena.services import battles
from webapp.studio.models import Prompt

pytestmark = pytest.mark.django_db

READ_ONLY = [
    "/api/v1/models",
    "/api/v1/prompts/someid",
    "/api/v1/leaderboard",
    "/api/v1/battles/next",
    "/api/v1/battles/export",
]
WATCHED = {"watched_left_s": 2.0, "watched_right_s": 2.0}


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    record_sent(monkeypatch, lambda *a: None)


def post(client, path, body):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json")


def error_of(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


def battle_token(client) -> str:
    """A token of a ready battle, its clips watched through, served to `client` as a voter."""
    if client.get("/api/v1/battles/next").status_code == 403:
        api_voter(client)
    token = client.get("/api/v1/battles/next").json()["battle"]["token"]
    mark_watched(render(Battle.objects.get(public_id=battles.unsign(token)["b"])))
    return token


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"prompt": "a fox", "duration_s": ' + "9" * 309 + "}", "duration_s"),
        ('{"prompt": "a fox", "duration_s": 1e400}', "duration_s"),
        ('{"prompt": "a fox", "seed": ' + "7" * 5000 + "}", "seed"),
    ],
)
def test_huge_numbers_in_a_prompt_are_refused_with_a_code(client, demo_models, body, field):
    error = error_of(post(client, "/api/v1/prompts", body), 422)
    assert (error["code"], error["field"]) == ("number_out_of_range", field)
    assert "set_int_max_str_digits" not in error["message"]
    assert Prompt.objects.count() == 0


def test_huge_watch_times_are_refused_with_a_code(client, make_clips):
    make_clips(prompts=1)
    body = '{"token": "' + battle_token(client) + '", "choice": "left", "watched_left_s": ' + "4" * 400 + "}"
    error = error_of(post(client, "/api/v1/votes", body), 422)
    assert (error["code"], error["field"]) == ("number_out_of_range", "watched_left_s")
    assert Vote.objects.count() == 0


@pytest.mark.parametrize("value", ['"4"', "true", "[4]", '{"s": 4}'])
def test_a_number_field_takes_json_numbers_only(client, demo_models, value):
    """One rule everywhere: a string is never a number and a boolean never 1."""
    error = error_of(post(client, "/api/v1/prompts", '{"prompt": "a fox", "duration_s": ' + value + "}"), 422)
    assert (error["code"], error["field"]) == ("invalid_type", "duration_s")


@pytest.mark.parametrize("value", ['"2"', "false"])
def test_vote_numbers_follow_the_same_rule(client, make_clips, value):
    make_clips(prompts=1)
    body = '{"token": "' + battle_token(client) + '", "choice": "left", "watched_left_s": ' + value + "}"
    error = error_of(post(client, "/api/v1/votes", body), 422)
    assert (error["code"], error["field"]) == ("invalid_type", "watched_left_s")


def test_an_integer_field_takes_a_whole_float_as_json_schema_does(client, demo_models):
    response = post(client, "/api/v1/prompts", {"prompt": "a red fox in the snow", "seed": 7.0})
    assert response.status_code == 201 and response.json()["seed"] == 7


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_constants_are_malformed(client, demo_models, literal):
    body = '{"prompt": "a", "duration_s": ' + literal + "}"
    assert error_of(post(client, "/api/v1/prompts", body), 400)["code"] == "malformed_json"


# --- shape -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/prompts", "/api/v1/votes"])
def test_deep_nesting_is_refused_before_parsing(client, demo_models, path):
    body = '{"prompt": ' + "[" * 1000 + "]" * 1000 + "}"
    assert error_of(post(client, path, body), 400)["code"] == "malformed_json"


@pytest.mark.parametrize("path", ["/api/v1/prompts", "/api/v1/votes"])
def test_an_oversized_body_is_413(client, demo_models, path):
    error = error_of(post(client, path, {"prompt": "x" * 70_000}), 413)
    assert error["code"] == "payload_too_large"


def test_unknown_fields_are_refused_on_votes_too(client, make_clips):
    make_clips(prompts=1)
    error = error_of(post(client, "/api/v1/votes", {"token": battle_token(client), "choice": "left", "x": 1}), 400)
    assert (error["code"], error["field"]) == ("unknown_field", "x")
    assert Vote.objects.count() == 0


def test_a_duplicated_field_is_refused(client, make_clips):
    make_clips(prompts=1)
    body = '{"token": "' + battle_token(client) + '", "choice": "left", "choice": "right"}'
    assert error_of(post(client, "/api/v1/votes", body), 400)["code"] == "duplicate_field"


def test_unknown_query_parameters_are_refused(client, demo_models):
    error = error_of(client.get("/api/v1/models?verbose=1"), 400)
    assert (error["code"], error["field"]) == ("unknown_parameter", "verbose")


@pytest.mark.parametrize("page", ["\u00b2", "0", "-1", "1.5", "99999999999999999999"])
def test_a_page_must_be_ascii_digits_in_range(client, page):
    assert error_of(client.get("/api/v1/prompts", {"page": page}), 400)["code"] == "invalid_page"


# --- methods and CSRF -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", READ_ONLY)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_to_read_only_endpoints_are_a_json_405_even_with_csrf_enforced(demo_models, path, method):
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(path, data="{}", content_type="application/json")
    error = error_of(response, 405)
    assert error["code"] == "method_not_allowed" and response["Allow"] == "GET"


def test_a_control_character_in_an_api_path_is_a_json_404(client):
    assert error_of(client.get("/api/v1/prompts/abc%00def"), 404)["code"] == "not_found"


def test_a_nul_in_a_form_field_is_refused_before_it_reaches_the_database(client, make_clips):
    """The report form passed a NUL straight to PostgreSQL, which answered with an error (500)."""
    prompt = make_clips(prompts=1)[0]
    for fields in (
        {"kind": "prompt", "id": "a\x00b", "reason": "other"},
        {"kind": "prompt", "id": prompt.public_id, "reason": "other", "note": "x\x00y"},
    ):
        assert client.post("/report", fields).status_code == 400


def test_a_control_character_in_a_query_is_a_json_400(client):
    assert error_of(client.get("/api/v1/leaderboard?category=a%00b"), 400)["code"] == "invalid_characters"


# --- filters ------------------------------------------------------------------------------------------


def test_unknown_pool_and_category_get_one_status(client, make_clips):
    make_clips(prompts=1, category="animals")
    assert error_of(client.get("/api/v1/leaderboard?pool=nope"), 400)["code"] == "invalid_pool"
    assert error_of(client.get("/api/v1/leaderboard?category=nope"), 400)["code"] == "invalid_category"
    # a category the arena knows, with no board computed yet: 404, as a known pool without one
    assert error_of(client.get("/api/v1/leaderboard?category=animals"), 404)["code"] == "no_leaderboard"
    assert error_of(client.get("/api/v1/leaderboard"), 404)["code"] == "no_leaderboard"


# --- votes ----------------------------------------------------------------------------------------


def test_a_replayed_vote_answers_with_the_stored_choice(client, make_clips):
    make_clips(prompts=1)
    token = battle_token(client)
    first = post(client, "/api/v1/votes", {"token": token, "choice": "right", **WATCHED})
    assert first.status_code == 201 and first.json()["vote"]["choice"] == "right"
    again = post(client, "/api/v1/votes", {"token": token, "choice": "left", **WATCHED})
    assert again.status_code == 200
    assert again.json()["vote"] | {} == {**first.json()["vote"], "replay": True}
    assert again.json()["vote"]["choice"] == "right"


# --- characters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a fox \u202eevil",  # RIGHT-TO-LEFT OVERRIDE, unterminated
        "a fox \u2066isolated",  # LEFT-TO-RIGHT ISOLATE
        "a fox\u200b in snow",  # ZERO WIDTH SPACE
        "a fox \ufeff in snow",  # BYTE ORDER MARK
        "a fox \u0007 bell",  # BEL
        "a fox \ue000 private",  # private use
        "a fox \U000e0041 tag",  # TAG LATIN CAPITAL LETTER A
    ],
)
def test_invisible_and_bidi_characters_in_a_prompt_are_invalid_characters(client, demo_models, text):
    error = error_of(post(client, "/api/v1/prompts", {"prompt": text}), 422)
    assert (error["code"], error["field"]) == ("invalid_characters", "prompt")
    assert "U+" in error["message"]
    assert Prompt.objects.count() == 0


def test_a_lone_surrogate_is_invalid_characters_not_a_policy_rejection(client, demo_models):
    error = error_of(post(client, "/api/v1/prompts", '{"prompt": "a red fox \\ud800 in snow"}'), 422)
    assert (error["code"], error["field"]) == ("invalid_characters", "prompt")


def test_a_lone_surrogate_in_an_identifier_field_is_invalid_characters(client, demo_models):
    error = error_of(post(client, "/api/v1/prompts", '{"prompt": "a fox", "models": ["demo-\\udc00"]}'), 422)
    assert (error["code"], error["field"]) == ("invalid_characters", "models")


def test_joiners_inside_words_and_emoji_are_kept(client, demo_models):
    text = (
        "a family \U0001f468\u200d\U0001f469\u200d\U0001f467 walking, \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    )
    response = post(client, "/api/v1/prompts", {"prompt": text})
    assert response.status_code == 201, response.content
    assert response.json()["prompt"] == text


def test_ordinary_whitespace_is_still_collapsed(client, demo_models):
    response = post(client, "/api/v1/prompts", {"prompt": "a red\tfox\n\nin   snow"})
    assert response.status_code == 201 and response.json()["prompt"] == "a red fox in snow"


def test_the_web_form_applies_the_same_character_rule(client, demo_models):
    response = client.post("/new", {"text": "a fox \u202eevil", "models": ["demo-aurora"], "aspect_ratio": "16:9"})
    assert response.status_code == 400 and "U+202E" in response.content.decode()
    assert Prompt.objects.count() == 0
