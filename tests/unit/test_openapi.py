"""The OpenAPI document (issue 12, item 7) is kept true: its paths and methods are the
URLconf's API routes and their api_view methods, it loads as OpenAPI 3.1, and real responses
of every endpoint (successes and the usual errors) have a documented status, content type and
a body matching the documented schema."""

import json

import pytest
import schemathesis
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.arena_support import mark_watched, render
from tests.conftest import record_sent
from tests.openapi_check import violations
from webapp.arena.models import Battle
from webapp.arena.services import battles, board, proof_of_work
from webapp.core.openapi import document

pytestmark = pytest.mark.django_db


def api_routes() -> dict[str, set[str]]:
    """{path template: methods} of every URL under /api/, from the URLconf."""
    found: dict[str, set[str]] = {}

    def walk(patterns, prefix=""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and route.startswith("api/"):
                template = "/" + route.replace("<str:", "{").replace(">", "}")
                found[template] = {m.lower() for m in entry.callback.api_methods}

    walk(get_resolver().url_patterns)
    return found


def test_the_document_lists_exactly_the_api_routes_and_their_methods():
    documented = {path: set(item) for path, item in document()["paths"].items()}
    assert documented == api_routes()


def test_it_loads_as_openapi_3_1_with_every_operation():
    schema = schemathesis.openapi.from_dict(document())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert document()["openapi"].startswith("3.1") and len(operations) == 13


def test_it_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.json() == document()


@pytest.fixture
def arena(make_clips, settings, monkeypatch):
    record_sent(monkeypatch, lambda *a: None)
    settings.LEADERBOARD_MIN_VOTES = 1
    settings.RATING_BOOTSTRAP_ROUNDS = 20
    return make_clips(prompts=3)


def check(response, method="GET"):
    path = response.wsgi_request.path
    problems = violations(path, method, response.status_code, response.get("Content-Type", ""), response.content)
    assert problems == [], problems
    return response


def post(client, path, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return check(client.post(path, data=data, content_type="application/json"), "POST")


def test_real_responses_of_every_endpoint_match_the_document(client, arena):
    prompt = arena[0]
    check(client.get("/api/v1/models"))
    check(client.get("/api/v1/models?x=1"))
    check(client.get("/api/v1/prompts"))
    check(client.get("/api/v1/prompts?page=0"))
    check(client.get("/api/v1/prompts?page=99"))
    check(client.get(f"/api/v1/prompts/{prompt.public_id}"))
    check(client.get("/api/v1/prompts/nope"))
    created = post(client, "/api/v1/prompts", {"prompt": "a heron in the rain", "models": ["demo-aurora"], "seed": 3})
    assert created.status_code == 201
    cancel_url = f"/api/v1/prompts/{created.json()['id']}/jobs/demo-aurora/cancel"
    assert check(Client().post(cancel_url), "POST").status_code == 403  # not the submitter
    assert check(client.post(cancel_url), "POST").status_code == 200
    assert check(client.post(cancel_url), "POST").status_code == 409
    check(client.post(f"/api/v1/prompts/{created.json()['id']}/jobs/nope/cancel"), "POST")  # 404
    assert post(client, "/api/v1/prompts", {"prompt": "Elon Musk riding a horse on Mars"}).status_code == 202
    post(client, "/api/v1/prompts", {"prompt": "a fox", "duration_s": "4"})
    post(client, "/api/v1/prompts", {"prompt": "a fox", "colour": "red"})
    post(client, "/api/v1/prompts", '{"prompt": ' + "[" * 50 + "]" * 50 + "}")
    check(client.post("/api/v1/prompts", data="prompt=x", content_type="application/x-www-form-urlencoded"), "POST")
    voter = Client()  # has seen no named results, so battles are served to it
    check(voter.get("/api/v1/battles/next"))  # 403 voter_required
    challenge = check(voter.get("/api/v1/voters/challenge")).json()
    post(voter, "/api/v1/voters", {"challenge": challenge["challenge"], "solution": "12x"})  # wrong
    solution = proof_of_work.solve(challenge["nonce"], challenge["bits"])
    assert post(voter, "/api/v1/voters", {"challenge": challenge["challenge"], "solution": solution}).status_code == 201
    battle = check(voter.get("/api/v1/battles/next")).json()["battle"]
    check(voter.get(battle["status_url"]))  # preparing
    mark_watched(render(Battle.objects.get(public_id=battles.unsign(battle["token"])["b"])))
    check(voter.get(battle["status_url"]))  # ready
    check(voter.get("/api/v1/battles/nope"))
    vote = {"token": battle["token"], "choice": "left", "watched_left_s": 2, "watched_right_s": 2}
    assert post(voter, "/api/v1/votes", vote).status_code == 201
    assert post(voter, "/api/v1/votes", vote).status_code == 200
    post(voter, "/api/v1/votes", {"token": "forged", "choice": "left"})
    post(voter, "/api/v1/votes", {"token": battle["token"], "choice": 1})
    assert Client().post("/api/v1/votes", data=json.dumps(vote), content_type="application/json").status_code == 403
    check(voter.get("/api/v1/battles/next?pool=nope"))
    check(voter.get("/api/v1/battles/next?pool=community"))  # 404 no_battle
    check(client.get("/api/v1/battles/export"))
    check(client.get("/api/v1/battles/export?format=csv&pool=official&limit=1"))
    check(client.get("/api/v1/battles/export?limit=0"))
    check(client.get("/api/v1/leaderboard"))  # 404: none computed yet
    board.recompute("official")
    check(client.get("/api/v1/leaderboard"))
    check(client.get("/api/v1/leaderboard?category=animals&format=csv"))
    check(client.get("/api/v1/leaderboard?category=nope"))
    check(client.get("/api/v1/openapi.json"))
