"""Votes count only when they could be honest: one battle held at a time, the server's watch
clock, clips already revealed never shown again, an entry check for new voters, caps per
address, logged-in voters only where the operator asks, and client addresses believed only
from trusted proxies."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core import signing
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.arena_support import mark_watched, ready_battle, render, served_battle, start_voting
from tests.conftest import record_sent
from webapp.arena import tasks as arena_tasks
from webapp.arena.models import Battle, NamedView, Vote
from webapp.arena.services import battles, proof_of_work, renditions
from webapp.arena.services.voters import Voter
from webapp.arena.services.votes import VoteError, cast_vote
from webapp.core.clients import client_ip
from webapp.core.errors import ScreentestError

pytestmark = pytest.mark.django_db

ALICE = Voter("alice-key", "alice-ip")


@pytest.fixture(autouse=True)
def clean_cache(fresh_cache):
    return fresh_cache


# --- one battle at a time --------------------------------------------------------------------


def test_asking_for_the_next_battle_skips_the_one_held(make_clips):
    make_clips(prompts=2)
    held = ready_battle(ALICE)
    token = battles.sign(held)
    following = ready_battle(ALICE)
    held.refresh_from_db()
    assert held.state == "skipped" and following.pk != held.pk
    with pytest.raises(VoteError) as info:
        cast_vote(ALICE, token=token, choice="left")
    assert (info.value.code, info.value.status) == ("battle_skipped", 410)
    assert cast_vote(ALICE, token=battles.sign(following), choice="left").created


def test_a_battle_still_being_prepared_takes_no_vote(make_clips):
    make_clips(prompts=1)
    battle = battles.next_battle(ALICE)
    assert battle.state == "preparing"
    with pytest.raises(VoteError) as info:
        cast_vote(ALICE, token=battles.sign(battle), choice="left")
    assert (info.value.code, info.value.status) == ("battle_not_ready", 409)


def test_the_next_battle_is_prepared_by_the_worker_while_the_current_one_is_watched(
    make_clips, monkeypatch, django_capture_on_commit_callbacks
):
    make_clips(prompts=4)  # 3 models: 12 clips
    sent = []
    record_sent(monkeypatch, lambda name, args, countdown: sent.append((name, args)))
    voter = Client()
    start_voting(voter)
    with django_capture_on_commit_callbacks(execute=True):
        battle, token = served_battle(voter)
    requested = [args for name, args in sent if name == "arena.prepare_next"]
    served = Battle.objects.filter(voter_key=battle.voter_key, served_at__isnull=False).count()
    assert len(requested) == served, sent  # once per battle served (each arena page serves one)
    with django_capture_on_commit_callbacks(execute=True):
        arena_tasks.prepare_next(*requested[0])  # what the arena worker runs
    prepared = Battle.objects.get(voter_key=battle.voter_key, served_at__isnull=True)
    assert prepared.state == "preparing" and ("arena.render_battle", [prepared.pk]) in sent
    # The held battle's clips are revealed by its vote, so the prepared one holds neither.
    assert not {battle.left_id, battle.right_id} & {prepared.left_id, prepared.right_id}
    arena_tasks.prepare_next(*requested[0])
    assert Battle.objects.filter(voter_key=battle.voter_key, served_at__isnull=True).count() == 1  # one is enough
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = voter.post("/api/v1/votes", {"token": token, "choice": "tie"}, content_type="application/json")
    assert answer.status_code == 201
    assert not [name for name, _ in sent if name == "arena.prepare_next"]  # the vote sends nothing
    following = voter.get("/api/v1/battles/next").json()["battle"]
    assert following["status_url"].endswith(f"/{prepared.public_id}")  # served, not made again


def test_a_prepared_battle_showing_a_model_revealed_since_is_not_served(make_clips):
    make_clips(prompts=4)
    held = ready_battle(ALICE)
    # A battle prepared by hand with one of the held battle's clips (the worker never does this).
    other = Battle.objects.exclude(pk=held.pk).filter(voter_key=ALICE.key).first()
    assert other is None
    clips = [c for c in battles.arena_clips("official").exclude(pk__in=(held.left_id, held.right_id))]
    partner = next(c for c in clips if c.job.model_id not in {held.left.job.model_id})
    stale = Battle.objects.create(
        prompt_id=partner.job.prompt_id,
        left_id=held.left_id,
        right_id=partner.pk,
        pool="official",
        pair_key=battles.pair_key(held.left_id, partner.pk),
        voter_key=ALICE.key,
    )
    cast_vote(ALICE, token=battles.sign(held), choice="left")
    following = battles.next_battle(ALICE)
    stale.refresh_from_db()
    assert (stale.state, stale.error_code) == ("failed", "clip_revealed")
    assert following is not None and following.pk != stale.pk
    assert not {held.left_id, held.right_id} & {following.left_id, following.right_id}


def test_clips_whose_model_was_revealed_are_not_shown_again(make_clips):
    make_clips(prompts=4)  # 3 models: 12 clips
    voted = ready_battle(ALICE)
    cast_vote(ALICE, token=battles.sign(voted), choice="left")
    revealed = {voted.left_id, voted.right_id}
    while (battle := battles.next_battle(ALICE)) is not None:
        assert not revealed & {battle.left_id, battle.right_id}


# --- the watch clock ---------------------------------------------------------------------------


def test_the_first_fetch_of_each_side_starts_the_clock(make_clips):
    make_clips(prompts=1)
    client = Client()
    start_voting(client)
    page = client.get("/arena").content.decode()
    battle = Battle.objects.get(public_id=page.split("/arena/b/")[1].split("/")[0])
    render(battle)
    before = timezone.now()
    client.get(f"/arena/b/{battle.public_id}/left.mp4")
    battle.refresh_from_db()
    assert battle.left_fetched_at >= before and battle.right_fetched_at is None
    first = battle.left_fetched_at
    client.get(f"/arena/b/{battle.public_id}/left.mp4", HTTP_RANGE="bytes=100-200")
    battle.refresh_from_db()
    assert battle.left_fetched_at == first  # a later range request does not restart it


# --- who a voter is ----------------------------------------------------------------------------


def test_visitors_who_do_not_vote_leave_no_rows(make_clips):
    prompt = make_clips(prompts=1)[0]
    visitor = Client()
    assert "data-arena-start" in visitor.get("/arena").content.decode()
    visitor.get(f"/p/{prompt.public_id}")
    visitor.get("/api/v1/prompts")
    assert Session.objects.count() == 0 and Battle.objects.count() == 0 and NamedView.objects.count() == 0


def test_a_voter_is_made_by_a_solved_check_once(make_clips):
    challenge = proof_of_work.issue()
    solution = proof_of_work.solve(challenge.nonce, challenge.bits)
    with pytest.raises(ScreentestError) as wrong:
        proof_of_work.redeem(challenge.token, "not a number")
    assert wrong.value.code == "wrong_solution"
    proof_of_work.redeem(challenge.token, solution)
    with pytest.raises(ScreentestError) as spent:
        proof_of_work.redeem(challenge.token, solution)
    assert spent.value.code == "challenge_spent"
    forged = signing.dumps({"n": "0" * 32, "b": 0}, salt="another salt")
    with pytest.raises(ScreentestError) as bad:
        proof_of_work.redeem(forged, "1")
    assert bad.value.code == "invalid_challenge"


def test_a_challenge_expires(settings, monkeypatch):
    challenge = proof_of_work.issue()
    settings.ARENA_POW_TTL_S = 0
    monkeypatch.setattr("time.time", lambda: 2e9)  # far later
    with pytest.raises(ScreentestError) as info:
        proof_of_work.redeem(challenge.token, proof_of_work.solve(challenge.nonce, challenge.bits))
    assert info.value.code == "challenge_expired"


def test_the_api_refuses_battles_and_votes_to_visitors_who_did_not_start(make_clips):
    make_clips(prompts=1)
    api = Client()
    assert api.get("/api/v1/battles/next").json()["error"]["code"] == "voter_required"
    vote = api.post("/api/v1/votes", data=json.dumps({"token": "x", "choice": "left"}), content_type="application/json")
    assert vote.status_code == 403 and vote.json()["error"]["code"] == "voter_required"


def test_new_voters_per_address_are_capped(make_clips, settings):
    settings.ARENA_NEW_VOTERS_PER_IP_PER_HOUR = 2
    for _ in range(2):
        start_voting(Client())
    third = Client()
    page = third.get("/arena").content.decode()
    nonce = page.split('data-nonce="')[1].split('"')[0]
    token = page.split('name="challenge" value="')[1].split('"')[0]
    response = third.post("/arena/start", {"challenge": token, "solution": proof_of_work.solve(nonce, 6)})
    assert response.status_code == 429 and "Too many new voters" in response.content.decode()
    assert Client(REMOTE_ADDR="198.51.100.7").get("/arena").status_code == 200  # another address is fine


def test_battles_per_address_are_capped(make_clips, settings):
    make_clips(prompts=3)
    settings.ARENA_BATTLES_PER_IP_PER_HOUR = 2
    battles.next_battle(ALICE)
    battles.next_battle(Voter("rotated-cookie", ALICE.ip_hash))
    with pytest.raises(ScreentestError) as info:
        battles.next_battle(Voter("another-cookie", ALICE.ip_hash))
    assert info.value.status == 429 and info.value.retry_after


def test_counted_votes_per_address_are_capped(make_clips, settings):
    make_clips(prompts=3)
    settings.ARENA_COUNTED_VOTES_PER_IP_PER_HOUR = 2
    reasons = []
    for n in range(4):  # four identities behind one address (cookie rotation)
        voter = Voter(f"rotated-{n}", "one-address")
        reasons.append(cast_vote(voter, token=battles.sign(ready_battle(voter)), choice="left").vote.excluded_reason)
    assert reasons == ["", "", "address_over_cap", "address_over_cap"]
    assert Vote.objects.count() == 4  # kept, not counted


def test_an_operator_can_count_only_logged_in_voters(make_clips, settings):
    make_clips(prompts=2)
    make_clips(prompts=1, pool="community")
    settings.ARENA_REQUIRE_LOGIN = True
    anonymous = Voter("anon", "ip-a")
    assert cast_vote(anonymous, token=battles.sign(ready_battle(anonymous)), choice="left").vote.excluded_reason == (
        "login_required"
    )
    community = ready_battle(anonymous, pool="community")
    assert cast_vote(anonymous, token=battles.sign(community), choice="left").vote.excluded_reason == ""
    user = User.objects.create_user("juror", password="a long enough password")
    browser = Client()
    browser.force_login(user)
    page = browser.get("/arena").content.decode()
    assert "data-arena-start" not in page  # an account is an identity: no check needed
    battle = Battle.objects.get(public_id=page.split("/arena/b/")[1].split("/")[0])
    mark_watched(render(battle))
    browser.post("/arena/vote", {"token": battles.sign(battle), "choice": "right"})
    assert Vote.objects.get(battle=battle).excluded_reason == ""


# --- the client's address ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trusted, remote, forwarded, expected",
    [
        ([], "203.0.113.5", "1.2.3.4", "203.0.113.5"),  # no proxy configured: the header is ignored
        (["10.0.0.0/8"], "203.0.113.5", "1.2.3.4", "203.0.113.5"),  # not from our proxy: ignored
        (["10.0.0.0/8"], "10.0.0.2", "198.51.100.9", "198.51.100.9"),  # nginx set it
        (["10.0.0.0/8"], "10.0.0.2", "6.6.6.6, 198.51.100.9", "198.51.100.9"),  # the client's own entry is not
        (["10.0.0.0/8"], "10.0.0.2", "6.6.6.6, 198.51.100.9, 10.0.0.3", "198.51.100.9"),  # two proxies
        (["10.0.0.0/8"], "10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_forwarded_addresses_are_believed_only_from_trusted_proxies(settings, trusted, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


# --- housekeeping ----------------------------------------------------------------------------------


def test_tidy_resends_lost_renditions_and_deletes_old_files(
    make_clips, settings, monkeypatch, media_root, django_capture_on_commit_callbacks
):
    from tests.conftest import record_sent

    make_clips(prompts=2)
    sent = []
    record_sent(monkeypatch, lambda name, args, countdown: sent.append((name, args)))
    lost = battles.next_battle(ALICE)
    Battle.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    old = ready_battle(Voter("old", "ip"))
    files = [media_root / old.left_media.name, media_root / old.right_media.name]
    assert all(f.exists() for f in files)
    Battle.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.BATTLE_MAX_AGE_S + 5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = renditions.tidy()
    assert ("arena.render_battle", [lost.pk]) in sent and report["resent"] == 1
    assert report["files_deleted"] == 2 and not any(f.exists() for f in files)
    old.refresh_from_db()
    assert old.state == "skipped" and not old.left_media.name
