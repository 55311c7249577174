"""Helpers for arena tests: battles made ready by the real render step, clocks moved back
instead of waiting for clips to play, and browsers that start voting the way a page does."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from webapp.arena.models import Battle, BattleState
from webapp.arena.services import battles, proof_of_work, renditions


def render(battle: Battle) -> Battle:
    """What the arena worker does for a new battle, run here."""
    renditions.render(battle.pk, owner="test pid 1")
    battle.refresh_from_db()
    assert battle.state == BattleState.READY, (battle.state, battle.error_code)
    return battle


def mark_watched(battle: Battle, *, seconds_ago: float | None = None) -> Battle:
    """Both sides fetched `seconds_ago` (default: the clips' duration and a second): what a
    voter who played them through looks like to the server's clock."""
    battle.refresh_from_db()
    ago = timedelta(seconds=(battle.duration_s or 0) + 1 if seconds_ago is None else seconds_ago)
    fetched = timezone.now() - ago
    Battle.objects.filter(pk=battle.pk).update(left_fetched_at=fetched, right_fetched_at=fetched)
    battle.refresh_from_db()
    return battle


def ready_battle(voter, pool: str = "official", *, watched: bool = True) -> Battle | None:
    """The voter's next battle, rendered, and (by default) watched through."""
    battle = battles.next_battle(voter, pool=pool)
    if battle is None:
        return None
    render(battle)
    return mark_watched(battle) if watched else battle


def start_voting(client, pool: str = "official"):
    """The start page's check, solved as the browser would, then posted: `client` is a voter."""
    page = client.get(f"/arena?pool={pool}").content.decode()
    nonce = re.search(r'data-nonce="([0-9a-f]+)"', page).group(1)
    bits = int(re.search(r'data-bits="(\d+)"', page).group(1))
    token = re.search(r'name="challenge" value="([^"]+)"', page).group(1)
    response = client.post(
        f"/arena/start?pool={pool}", {"challenge": token, "solution": proof_of_work.solve(nonce, bits)}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def served_battle(client, pool: str = "official", *, watched: bool = True) -> tuple[Battle, str]:
    """Open the arena page as a voter, let the worker's step run, and read the battle's token
    from the page; the battle's clips are then (by default) watched through."""
    if "data-arena-start" in client.get(f"/arena?pool={pool}").content.decode():
        start_voting(client, pool)
    page = client.get(f"/arena?pool={pool}").content.decode()
    public_id = re.search(r"/arena/b/([A-Za-z0-9_-]+)/status", page)
    if public_id:  # still preparing: the worker's step, then the page's poll
        render(Battle.objects.get(public_id=public_id.group(1)))
        page = client.get(f"/arena/b/{public_id.group(1)}/status").content.decode()
    token = page.split('name="token" value="')[1].split('"')[0]
    battle = Battle.objects.get(public_id=battles.unsign(token)["b"])
    if watched:
        mark_watched(battle)
    return battle, token
