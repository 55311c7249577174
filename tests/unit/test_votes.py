import json
import threading
import time

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.arena_support import mark_watched, ready_battle, render, served_battle
from webapp.arena.models import Battle, Vote
from webapp.arena.services import battles, proof_of_work
from webapp.arena.services.voters import Voter, current_voter
from webapp.arena.services.votes import VoteError, cast_vote

pytestmark = pytest.mark.django_db

WATCHED = {"watched_left_s": 2.0, "watched_right_s": 2.0}  # what the page reports (kept as extra data)


@pytest.fixture(autouse=True)
def clean_cache(fresh_cache):
    return fresh_cache


def voter_of(client) -> Voter:
    """The voter identity the site derives for this test client's (existing) session."""
    request = RequestFactory().get("/")
    request.session, request.user = client.session, AnonymousUser()
    voter = current_voter(request)
    assert voter is not None
    return voter


def serve(client, pool="official") -> tuple[Battle, str]:
    return served_battle(client, pool)


def test_vote_counts_once_and_replays_answer_the_same(make_clips):
    make_clips(prompts=1)
    voter = Voter("v1", "ip1")
    battle = ready_battle(voter)
    token = battles.sign(battle)
    first = cast_vote(voter, token=token, choice="left", **WATCHED)
    assert first.created and first.vote.winner == "model_a" and first.vote.excluded_reason == ""
    assert first.vote.model_a_id == battle.left.job.model_id and first.vote.model_b_id == battle.right.job.model_id
    again = cast_vote(voter, token=token, choice="right", **WATCHED)
    assert not again.created and again.vote.pk == first.vote.pk and again.vote.winner == "model_a"
    assert Vote.objects.count() == 1


@pytest.mark.parametrize(
    "choice, winner", [("left", "model_a"), ("right", "model_b"), ("tie", "tie"), ("bothbad", "tie (bothbad)")]
)
def test_four_choices_map_to_fastchat_labels(make_clips, choice, winner):
    make_clips(prompts=1)
    voter = Voter("v1", "ip1")
    outcome = cast_vote(voter, token=battles.sign(ready_battle(voter)), choice=choice, **WATCHED)
    assert outcome.vote.winner == winner


def test_someone_elses_battle_bad_choice_and_bad_watch_times(make_clips):
    make_clips(prompts=1)
    alice, mallory = Voter("alice", "ip"), Voter("mallory", "ip")
    token = battles.sign(ready_battle(alice))
    for voter, kwargs, code in [
        (mallory, {"choice": "left"}, "not_your_battle"),
        (alice, {"choice": "best"}, "invalid_choice"),
        (alice, {"choice": "left", "watched_left_s": "abc"}, "invalid_watch_time"),
        (alice, {"choice": "left", "watched_left_s": -1}, "invalid_watch_time"),
        (alice, {"choice": "left", "watched_left_s": float("inf")}, "invalid_watch_time"),
    ]:
        with pytest.raises(VoteError) as info:
            cast_vote(voter, token=token, **kwargs)
        assert info.value.code == code
    with pytest.raises(VoteError) as info:
        cast_vote(alice, token="", choice="left")
    assert info.value.code == "invalid_battle"
    assert Vote.objects.count() == 0


def test_unwatched_votes_are_kept_but_excluded(make_clips, settings):
    """The server's clock decides: the clips' duration (less the tolerance) must have passed
    since the later of the two first fetches. What the page reports is stored, not believed."""
    make_clips(prompts=3)
    voter = Voter("v1", "ip1")
    too_soon = mark_watched(ready_battle(voter, watched=False), seconds_ago=0.5)
    vote = cast_vote(voter, token=battles.sign(too_soon), choice="tie", **WATCHED).vote
    assert vote.excluded_reason == "not_watched" and vote.watched_right_s == 2.0
    one_side = ready_battle(voter, watched=False)
    Battle.objects.filter(pk=one_side.pk).update(left_fetched_at=timezone.now() - timezone.timedelta(seconds=60))
    assert cast_vote(voter, token=battles.sign(one_side), choice="tie").vote.excluded_reason == "not_watched"
    just_in_time = ready_battle(voter, watched=False)
    mark_watched(just_in_time, seconds_ago=just_in_time.duration_s - settings.ARENA_WATCH_TOLERANCE_S + 0.05)
    assert cast_vote(voter, token=battles.sign(just_in_time), choice="tie").vote.excluded_reason == ""


def test_rate_limit_per_voter_and_per_ip(make_clips, settings):
    make_clips(prompts=3)
    left = 60 - time.time() % 60
    if left < 20:  # the limiter's minute windows follow the clock: never straddle one
        time.sleep(left + 0.1)
    settings.VOTE_RATE_PER_MINUTE = 2
    voter = Voter("v1", "ip1")
    for _ in range(2):
        cast_vote(voter, token=battles.sign(ready_battle(voter)), choice="left", **WATCHED)
    with pytest.raises(VoteError) as info:
        cast_vote(voter, token=battles.sign(ready_battle(voter)), choice="left", **WATCHED)
    assert info.value.code == "rate_limited" and info.value.status == 429 and "Try again in" in info.value.message
    assert 0 < info.value.retry_after <= 60
    settings.VOTE_RATE_PER_MINUTE = 100
    settings.VOTE_RATE_PER_IP_PER_MINUTE = 4  # every attempt counts: v1 made 3 from this address
    other = Voter("v2", "ip1")  # same address, new session
    cast_vote(other, token=battles.sign(ready_battle(other)), choice="left", **WATCHED)
    with pytest.raises(VoteError):
        cast_vote(other, token=battles.sign(ready_battle(other)), choice="left", **WATCHED)
    assert Vote.objects.count() == 3


@pytest.mark.redis(reason="the pipelined INCR + EXPIRE NX counters of webapp/core/redis_cache.py")
def test_rate_counters_live_in_the_shared_redis_and_expire(make_clips):
    """The counters must be shared by every web process: Redis, one pipelined round trip,
    each window's key expiring on its own."""
    import time

    from django.core.cache import caches

    make_clips(prompts=1)
    voter = Voter("v-redis", "ip-redis")
    cast_vote(voter, token=battles.sign(ready_battle(voter)), choice="left", **WATCHED)
    cache = caches["default"]
    client = cache._cache.get_client(write=True)
    window = int(time.time() // 60)
    keys = [cache.make_key(f"ratelimit:vote:{kind}:{window}") for kind in ("v:v-redis", "ip:ip-redis")]
    keys = [k for k in keys if client.exists(k)] or [
        cache.make_key(f"ratelimit:vote:{kind}:{window - 1}") for kind in ("v:v-redis", "ip:ip-redis")
    ]
    assert [int(client.get(k)) for k in keys] == [1, 1]
    assert all(0 < client.ttl(k) <= 120 for k in keys)


def test_the_web_flow_reveals_after_the_vote_and_excludes_voters_who_saw_names(client, make_clips):
    prompts = make_clips(prompts=2)
    battle, token = serve(client)
    response = client.post("/arena/vote", {"token": token, "choice": "right", **WATCHED}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    reveal = response.content.decode()
    assert battle.left.job.model.display_name in reveal and battle.right.job.model.display_name in reveal
    assert Vote.objects.get(battle=battle).excluded_reason == ""
    # Now look at the other prompt's named results, then get a battle on it anyway and vote.
    other = next(p for p in prompts if p.pk != battle.prompt_id)
    client.get(f"/p/{other.public_id}")
    forced = Battle.objects.create(
        prompt=other,
        left=other.jobs.all()[0].clip,
        right=other.jobs.all()[1].clip,
        pair_key="forced",
        voter_key=voter_of(client).key,
        pool="official",
        served_at=timezone.now(),
    )
    mark_watched(render(forced))
    client.post("/arena/vote", {"token": battles.sign(forced), "choice": "left", **WATCHED})
    assert Vote.objects.get(battle=forced).excluded_reason == "saw_named_results"


def test_the_web_vote_needs_csrf(make_clips):
    make_clips(prompts=1)
    strict = Client(enforce_csrf_checks=True)
    strict.get("/arena")
    assert strict.post("/arena/vote", {"token": "x", "choice": "left"}).status_code == 403


def test_vote_errors_on_the_page_keep_the_form(client, make_clips):
    make_clips(prompts=1)
    serve(client)
    response = client.post("/arena/vote", {"token": "forged", "choice": "left"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and response["HX-Retarget"] == "#vote-message"
    assert "not valid" in response.content.decode()


def api_voter(client):
    """A client that became a voter through the API's check."""
    challenge = client.get("/api/v1/voters/challenge").json()
    solution = proof_of_work.solve(challenge["nonce"], challenge["bits"])
    body = json.dumps({"challenge": challenge["challenge"], "solution": solution})
    assert client.post("/api/v1/voters", data=body, content_type="application/json").status_code == 201
    return client


def test_json_api_battle_and_vote(client, make_clips):
    make_clips(prompts=1)
    assert client.get("/api/v1/battles/next").json()["error"]["code"] == "voter_required"
    api_voter(client)
    battle = client.get("/api/v1/battles/next").json()["battle"]
    assert set(battle) == {
        "token", "state", "prompt", "pool", "status_url", "left", "right", "vote_url", "choices", "counts",
    }  # fmt: skip
    assert battle["state"] == "preparing" and battle["left"]["video_url"] is None
    prepared = Battle.objects.get(public_id=battles.unsign(battle["token"])["b"])
    mark_watched(render(prepared))
    battle = client.get(battle["status_url"]).json()["battle"]
    assert battle["state"] == "ready" and battle["left"]["video_url"].endswith("/left.mp4")

    def post(body):
        return client.post("/api/v1/votes", data=json.dumps(body), content_type="application/json")

    created = post({"token": battle["token"], "choice": "tie", **WATCHED})
    assert created.status_code == 201
    body = created.json()
    assert body["vote"]["counted"] and body["vote"]["winner"] == "tie"
    assert {body["reveal"]["left"]["model"], body["reveal"]["right"]["model"]} <= {
        "demo-aurora",
        "demo-lumen",
        "demo-pixel",
    }
    replay = post({"token": battle["token"], "choice": "left", **WATCHED})
    assert replay.status_code == 200 and replay.json()["vote"]["replay"] is True
    for body, status, code in [
        ({"token": "nope", "choice": "left"}, 400, "invalid_battle"),
        ("[]", 400, "malformed_json"),
        ("{", 400, "malformed_json"),
    ]:
        response = client.post(
            "/api/v1/votes", data=body if isinstance(body, str) else json.dumps(body), content_type="application/json"
        )
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert (
        client.post("/api/v1/votes", data="token=x", content_type="application/x-www-form-urlencoded").status_code
        == 415
    )
    assert client.get("/api/v1/battles/next?pool=nope").json()["error"]["code"] == "invalid_pool"
    assert api_voter(Client()).get("/api/v1/battles/next?pool=community").json()["error"]["code"] == "no_battle"


def test_no_raw_ip_is_stored(client, make_clips):
    make_clips(prompts=1)
    battle, token = serve(client)
    client.post("/arena/vote", {"token": token, "choice": "left", **WATCHED}, REMOTE_ADDR="203.0.113.9")
    vote = Vote.objects.get()
    assert "203.0.113.9" not in json.dumps([str(getattr(vote, f.attname)) for f in Vote._meta.fields])
    assert len(vote.ip_hash) == 40


@pytest.mark.django_db(transaction=True)
def test_simultaneous_double_submission_counts_once(make_clips):
    make_clips(prompts=1)
    voter = Voter("racer", "ip")
    token = battles.sign(ready_battle(voter))
    barrier, results = threading.Barrier(6), []

    def click():
        from django.db import connections

        barrier.wait()
        results.append(cast_vote(voter, token=token, choice="left", **WATCHED).created)
        connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]
    assert Vote.objects.count() == 1
