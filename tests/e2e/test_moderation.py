"""Moderation in Chromium, as a visitor and as a moderator: a held prompt ("awaits review"), a
report from the vote page, the moderator logs in, approves the prompt, hides the reported clip
and restores it. Checked each time: what the visitor sees, the audit trail, and the official
leaderboard, which the real worker recomputes after each hide and restore."""

import pytest
from django.contrib.auth.models import Group, User

from tests.arena_support import mark_watched
from tests.e2e.waiting import enter_arena, wait_until
from webapp.arena.models import Battle, RatingSnapshot, Vote
from webapp.arena.services import battles
from webapp.arena.services.voters import Voter
from webapp.arena.services.votes import cast_vote
from webapp.moderation.models import AuditEntry, Report
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt
from webapp.studio.services.submission import PromptInput, submit_prompt

from .conftest import ARENA_ENV, screenshot, wait_for

pytestmark = pytest.mark.e2e

# The worker recomputes the board after each decision; small thresholds let two models list.
BOARD_ENV = {"LEADERBOARD_MIN_VOTES": "1", "RATING_BOOTSTRAP_ROUNDS": "100"}
PASSWORD = "a long moderator passphrase"


@pytest.fixture
def live(celery_procs, collected_static):
    from webapp.catalog.services import load_catalog

    load_catalog()
    celery_procs.worker("e2e-mod@localhost", env={**BOARD_ENV, **ARENA_ENV})
    return celery_procs.web(collected_static, env={**BOARD_ENV, **ARENA_ENV})


def latest_snapshot_after(previous_id: int, logs) -> RatingSnapshot:
    wait_for(
        lambda: RatingSnapshot.objects.filter(pool="official", category="", pk__gt=previous_id).exists(),
        timeout=60,
        what="the worker's board recomputation",
        logs=logs,
    )
    return RatingSnapshot.objects.filter(pool="official", category="").latest("pk")


def test_held_prompt_report_hide_and_restore(browser, page, live, celery_procs):
    logs = celery_procs.logs
    # An official prompt with clips from every demo model, and votes on it.
    official = submit_prompt(
        PromptInput(text="A paper boat drifting down a rainy street", duration_s=2, seed=4), source=Prompt.Source.SUITE
    )
    Prompt.objects.filter(pk=official.pk).update(pool=Prompt.Pool.OFFICIAL)
    wait_for(
        lambda: (
            set(GenerationJob.objects.filter(prompt=official).values_list("state", flat=True)) == {JobState.SUCCEEDED}
        ),
        timeout=120,
        what="the demo clips",
        logs=logs,
    )
    clip_ids = set(Clip.objects.filter(job__prompt=official).values_list("pk", flat=True))
    voted_on: set[int] = set()
    for n in range(12):  # until every clip is in some counted vote (pairs are sampled at random)
        voter = Voter(f"seed-voter-{n}", f"ip-{n}")
        battle = battles.next_battle(voter)  # the worker renders it
        wait_for(
            lambda battle=battle: Battle.objects.get(pk=battle.pk).state == "ready",
            timeout=60,
            what="the battle's renditions",
            logs=logs,
        )
        mark_watched(battle)
        cast_vote(voter, token=battles.sign(battle), choice="left", watched_left_s=2, watched_right_s=2)
        voted_on |= {battle.left_id, battle.right_id}
        if voted_on == clip_ids and n >= 2:
            break
    assert voted_on == clip_ids
    total = Vote.objects.count()
    from django.test import override_settings

    from webapp.arena.services import board

    with override_settings(LEADERBOARD_MIN_VOTES=1, RATING_BOOTSTRAP_ROUNDS=100):
        before = board.recompute("official")
    assert before.votes_counted == total

    # The visitor submits a prompt naming a public figure: held, told so, nothing generated.
    page.goto(f"{live}/new")
    page.get_by_label("Prompt").fill("Elon Musk riding a horse on Mars")
    page.get_by_role("button", name="Generate").click()
    page.locator("[data-moderation=held]").wait_for()
    assert "awaits review" in page.locator("[data-moderation=held]").inner_text()
    held = Prompt.objects.get(moderation="held")
    held_url = page.url
    assert set(held.jobs.values_list("state", flat=True)) == {JobState.HELD}
    assert "Elon Musk" not in page.context.new_page().goto(f"{live}/").text()
    screenshot(page, "moderation-held-visitor")

    # The visitor reports the right clip from the vote page.
    enter_arena(page, live)
    page.get_by_text("Report this content").click()
    page.get_by_role("radio", name="Right clip").check()
    page.get_by_label("Reason").select_option("real_person")
    page.get_by_role("button", name="Send report").click()
    page.locator("[data-report-done]").wait_for()
    reported = Report.objects.get().clip
    battle_media = page.locator("video").nth(1).get_attribute("src")
    assert page.request.get(f"{live}{battle_media}").status == 200

    # The moderator logs in and works the queue.
    moderator = User.objects.create_user("mia", password=PASSWORD)
    moderator.groups.add(Group.objects.get(name="moderators"))
    mod = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    mod.goto(f"{live}/moderation/")
    assert "Log in" in mod.content()  # 403 page for a visitor, with a way in
    mod.goto(f"{live}/accounts/login/")
    mod.get_by_label("Username").fill("mia")
    mod.get_by_label("Password").fill(PASSWORD)
    mod.get_by_role("button", name="Log in").click()
    mod.wait_for_url(f"{live}/moderation/")
    items = mod.locator("[data-item]")
    assert items.count() == 2
    assert items.nth(0).get_attribute("data-id") == reported.public_id  # reported beats held (most reports)
    wait_until(mod, "document.querySelector('[data-item] video').readyState >= 1")
    screenshot(mod, "moderation-queue")

    # Approve the held prompt (reason, then the row's button; no page reload).
    mod.evaluate("window.__noReload = true")
    mod.get_by_label("Reason").fill("Satire, clearly not a real event")
    mod.locator(f"[data-item][data-id='{held.public_id}'] [data-act=approve]").click()
    mod.locator("[data-decision-done]").wait_for()
    assert "1 prompt approved." in mod.locator("[data-decision-done]").inner_text()
    wait_for(
        lambda: set(held.jobs.values_list("state", flat=True)) == {JobState.SUCCEEDED},
        timeout=120,
        what="the approved prompt's clips",
        logs=logs,
    )
    page.goto(held_url)
    page.locator("video").first.wait_for()
    assert page.locator("[data-moderation]").count() == 0

    # Hide the reported clip with the keyboard: j/k to it, h to hide.
    previous = RatingSnapshot.objects.latest("pk").pk
    mod.get_by_label("Reason").fill("Depicts a real person")
    mod.locator("h1").click()
    mod.keyboard.press("k")  # the first item: the reported clip
    mod.keyboard.press("h")
    wait_until(mod, "document.querySelector('[data-decision-done]')?.innerText.includes('1 clip hidden.')")
    assert mod.evaluate("window.__noReload") is True
    assert Clip.objects.get(pk=reported.pk).hidden
    votes = Vote.objects.filter(battle__right=reported) | Vote.objects.filter(battle__left=reported)
    on_hidden = votes.count()
    assert on_hidden >= 1 and set(votes.values_list("excluded_reason", flat=True)) == {"hidden_clip"}
    assert Vote.objects.count() == total  # excluded, not deleted
    after_hide = latest_snapshot_after(previous, logs)
    assert after_hide.votes_counted == total - on_hidden
    page.goto(f"{live}/leaderboard")
    assert f"{total - on_hidden} counted vote" in page.content()
    assert page.request.get(f"{live}{battle_media}").status == 404  # the served battle is withdrawn
    page.goto(f"{live}/")
    assert reported.poster.name not in page.content() and "Hidden by moderators" in page.content()
    screenshot(mod, "moderation-hidden")

    # Restore it from the hidden list.
    previous = after_hide.pk
    mod.get_by_label("Reason").fill("Report was mistaken: a lookalike")
    mod.locator(f"[data-item][data-id='{reported.public_id}'] [data-act=restore]").click()
    wait_until(mod, "document.querySelector('[data-decision-done]')?.innerText.includes('1 clip restored.')")
    assert set(votes.values_list("excluded_reason", flat=True)) == {""}
    after_restore = latest_snapshot_after(previous, logs)
    assert after_restore.votes_counted == total
    assert {r["model"]: r["votes"] for r in after_restore.rows} == {r["model"]: r["votes"] for r in before.rows}
    page.goto(f"{live}/leaderboard")
    assert page.locator("table.board:not([data-controlled-board]) tbody tr").count() == len(before.rows) == 3
    assert page.request.get(f"{live}{battle_media}").status == 200

    # The audit trail, as the moderator sees it.
    mod.goto(f"{live}/moderation/audit")
    actions = mod.locator("[data-audit] tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert actions[:3] == ["restore", "hide", "approve"]
    assert {"policy_hold", "policy_allow"} <= set(actions)
    trail = list(AuditEntry.objects.filter(actor=moderator).order_by("id").values_list("action", "target_id", "reason"))
    assert trail == [
        ("approve", held.public_id, "Satire, clearly not a real event"),
        ("hide", reported.public_id, "Depicts a real person"),
        ("restore", reported.public_id, "Report was mistaken: a lookalike"),
    ]
    screenshot(mod, "moderation-audit", full_page=True)
