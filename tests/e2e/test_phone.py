"""A phone (390 px wide, touch) visiting every page: nothing scrolls sideways, and the blind
vote fits one screen with both clips and the four choices, thumb-sized, with no key hints."""

import pytest
from django.contrib.auth.models import User

from tests.e2e.waiting import enter_arena, wait_until
from webapp.moderation import services as reports
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt
from webapp.studio.services.submission import PromptInput, submit_prompt

from .conftest import screenshot, wait_for

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
PASSWORD = "a long moderator passphrase"

# The page scrolls sideways when its content is wider than the viewport.
OVERFLOW = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
# What sticks out on the right, to say which element is to blame when the check fails.
CULPRITS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""


def content(logs) -> tuple[Prompt, Prompt, Clip]:
    official = submit_prompt(
        PromptInput(text="A kite over a windy beach at golden hour", duration_s=2, seed=5), source=Prompt.Source.SUITE
    )
    Prompt.objects.filter(pk=official.pk).update(pool=Prompt.Pool.OFFICIAL, category="camera_motion")
    held = submit_prompt(PromptInput(text="Elon Musk riding a horse on Mars", duration_s=2, seed=6))
    assert held.moderation == "held"
    wait_for(
        lambda: (
            set(GenerationJob.objects.filter(prompt=official).values_list("state", flat=True)) == {JobState.SUCCEEDED}
        ),
        timeout=120,
        what="the demo clips",
        logs=logs,
    )
    clip = Clip.objects.filter(job__prompt=official).first()
    reports.report(reporter_key="phone-test", reason="other", note="a long note " * 20, clip=clip)
    return official, held, clip


def test_every_page_fits_a_phone_and_the_vote_fits_one_screen(browser, site, celery_procs):
    official, held, clip = content(celery_procs.logs)
    User.objects.create_superuser("mo", "mo@localhost", PASSWORD)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(30_000)

    # The blind vote, as a new visitor on a phone.
    enter_arena(page, site)
    wait_until(page, "[...document.querySelectorAll('[data-battle] video')].every(v => v.readyState >= 2)")
    boxes = [page.locator(s).bounding_box() for s in ("[data-battle] video >> nth=0", "[data-battle] video >> nth=1")]
    buttons = [page.locator("button.vote").nth(i).bounding_box() for i in range(4)]
    top = min(b["y"] for b in boxes + buttons)
    bottom = max(b["y"] + b["height"] for b in boxes + buttons)
    assert bottom - top <= 844, f"clips and choices span {bottom - top:.0f} px, more than one 844 px screen"
    assert all(b["height"] >= 44 and b["width"] >= 44 for b in buttons), buttons
    play = page.locator("[data-sync-play]").bounding_box()
    assert play["height"] >= 44 and play["width"] >= 44, play
    wait_until(page, "!document.querySelector('button.vote').disabled", timeout=30_000)
    hint = page.locator("[data-vote-hint]").inner_text()
    assert "key" not in hint.lower(), hint
    assert not page.locator("button.vote kbd").first.is_visible()
    assert page.evaluate(OVERFLOW)[0] <= 390, page.evaluate(CULPRITS)
    screenshot(page, "phone-battle")

    visitor_pages = [
        "/",
        "/?q=nothing-matches-this",
        "/leaderboard",
        "/models",
        "/models/compare",
        "/models/demo-aurora",
        "/new",
        f"/p/{official.public_id}",
        f"/p/{official.public_id}/compare",
        f"/c/{clip.public_id}",
        "/accounts/login/",
        "/no-such-page",
    ]
    staff_pages = ["/moderation/", "/moderation/audit", "/ops/", f"/p/{held.public_id}"]
    too_wide = {}

    def walk(paths):
        for path in paths:
            page.goto(f"{site}{path}")
            scroll_width, client_width = page.evaluate(OVERFLOW)
            if scroll_width > client_width:
                too_wide[path] = (scroll_width, page.evaluate(CULPRITS))

    walk(visitor_pages)
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill("mo")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    walk(staff_pages)
    screenshot(page, "phone-held-prompt")
    context.close()
    assert not too_wide, f"pages wider than a 390 px phone: {too_wide}"
