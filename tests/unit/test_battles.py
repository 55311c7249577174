import time

import numpy as np
import pytest

from webapp.arena.models import Battle, NamedView
from webapp.arena.services import battles
from webapp.arena.services.battles import BattleTokenError
from webapp.arena.services.voters import Voter

pytestmark = pytest.mark.django_db

ALICE = Voter(key="alice-key", ip_hash="alice-ip")
BOB = Voter(key="bob-key", ip_hash="bob-ip")


def test_a_battle_pits_two_models_on_the_same_prompt(make_clips):
    make_clips(prompts=1)
    battle = battles.next_battle(ALICE, rng=np.random.default_rng(1))
    assert battle.left.job.prompt_id == battle.right.job.prompt_id == battle.prompt_id
    assert battle.left.job.model_id != battle.right.job.model_id
    assert battle.voter_key == ALICE.key and battle.pool == "official"


def test_a_voter_never_gets_the_same_pair_twice_and_then_runs_out(make_clips):
    make_clips(prompts=2)  # 3 models -> 3 pairs per prompt -> 6 battles
    seen = set()
    for _ in range(6):
        battle = battles.next_battle(ALICE)
        assert battle is not None
        assert battle.pair_key not in seen
        seen.add(battle.pair_key)
    assert battles.next_battle(ALICE) is None
    assert battles.next_battle(BOB) is not None  # another voter still has all of them


def test_left_and_right_are_random(make_clips):
    make_clips(prompts=12)
    orders = set()
    for _ in range(20):
        battle = battles.next_battle(ALICE)
        orders.add(battle.left.job.model_id < battle.right.job.model_id)
    assert orders == {True, False}


def test_disabled_and_hidden_models_and_other_pools_are_skipped(make_clips, demo_models):
    make_clips(prompts=3)
    make_clips(prompts=3, pool="community")
    demo_models[0].enabled = False
    demo_models[0].save()
    demo_models[1].in_arena = False
    demo_models[1].save()
    assert battles.next_battle(ALICE) is None  # one model left: no pair
    demo_models[1].in_arena = True
    demo_models[1].save()
    for _ in range(3):
        battle = battles.next_battle(ALICE)
        assert {battle.left.job.model_id, battle.right.job.model_id} == {demo_models[1].pk, demo_models[2].pk}
        assert battle.pool == "official"
    assert battles.next_battle(ALICE) is None
    assert battles.next_battle(ALICE, pool="community").pool == "community"


def test_prompts_seen_with_names_come_last_and_say_so(make_clips):
    """Seeing named results must not empty a voter's arena: unseen prompts first, then the seen
    ones, marked (their votes are kept but not counted)."""
    first, second = make_clips(prompts=2)
    NamedView.objects.create(voter_key=ALICE.key, prompt=first)
    for _ in range(3):
        battle = battles.next_battle(ALICE)
        assert battle.prompt_id == second.pk and not battle.named
    for _ in range(3):
        battle = battles.next_battle(ALICE)
        assert battle.prompt_id == first.pk and battle.named
    assert battles.next_battle(ALICE) is None


def test_tokens_are_signed_and_expire(make_clips, settings):
    make_clips(prompts=1)
    battle = battles.next_battle(ALICE)
    token = battles.sign(battle)
    assert battles.unsign(token) == {"b": battle.public_id, "v": ALICE.key}
    with pytest.raises(BattleTokenError) as info:
        battles.unsign(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert info.value.code == "invalid_battle"
    with pytest.raises(BattleTokenError):
        battles.unsign("not-a-token")
    settings.BATTLE_MAX_AGE_S = 1
    time.sleep(2.1)
    with pytest.raises(BattleTokenError) as info:
        battles.unsign(token)
    assert info.value.code == "battle_expired"


def test_battles_are_stored_with_an_opaque_id(make_clips):
    make_clips(prompts=1)
    battle = battles.next_battle(ALICE)
    assert len(battle.public_id) >= 16 and Battle.objects.filter(public_id=battle.public_id).exists()


def test_the_sampler_sees_live_pair_counts_not_the_last_snapshot(make_clips, demo_models, monkeypatch):
    from django.utils import timezone

    from webapp.arena.models import Vote
    from webapp.arena.services import board
    from workers.ratings import sampling

    make_clips(prompts=1)
    aurora, lumen, pixel = demo_models
    board.recompute("official")  # a snapshot taken before any vote
    for winner in ["model_a", "model_b", "tie"]:
        Vote.objects.create(
            model_a=aurora, model_b=lumen, winner=winner, pool="official", voter_key="v", created_at=timezone.now()
        )
    Vote.objects.create(
        model_a=pixel,
        model_b=aurora,
        winner="model_a",
        pool="official",
        voter_key="v",
        created_at=timezone.now(),
        excluded_reason="not_watched",
    )  # does not count
    Vote.objects.create(
        model_a=pixel, model_b=aurora, winner="model_a", pool="community", voter_key="v", created_at=timezone.now()
    )  # another pool
    seen = []
    real = sampling.choose_pair
    monkeypatch.setattr(
        sampling,
        "choose_pair",
        lambda states, counts, rng, **kw: seen.append(counts) or real(states, counts, rng, **kw),
    )
    assert battles.next_battle(ALICE) is not None
    assert seen[0] == {frozenset((str(aurora.pk), str(lumen.pk))): 3}
