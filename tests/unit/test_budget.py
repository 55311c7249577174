"""The spend budget (webapp/studio/services/budget.py) through the form, the JSON API and the
service, on PostgreSQL and Redis: per-IP and per-session rate limits, the daily spend cap
(race-free), the queued-jobs cap, duplicate prompts, exemptions and the operators' page.

Over ~400 lines on purpose: each spend limit (per IP, per session, daily cap, queue cap,
duplicates, exemptions) is tested through the same two entry points, web form and API.
"""

import io
import json
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.conftest import record_sent
from webapp.catalog.models import VideoModel
from webapp.catalog.services import load_catalog
from webapp.policy.states import ModerationState
from webapp.studio.models import GenerationJob, JobState, Prompt
from webapp.studio.services import budget
from webapp.studio.services.budget import BudgetError, Submitter
from webapp.studio.services.submission import PromptInput, submit_prompt

pytestmark = pytest.mark.django_db

VISITOR = Submitter(ip="198.51.100.7")


@pytest.fixture
def sent(monkeypatch):
    """Every Celery message sent (on commit)."""
    messages = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args)))
    return messages


def add_metered_model() -> VideoModel:
    """A hosted model billed like Sora 2 was: $0.10/s, made in 4, 8 or 12 s (Sora itself is
    retired, so it can no longer be asked)."""
    pika = VideoModel.objects.get(slug="pika-2-2")
    params = {**pika.backend_params, "app_id": "fal-ai/metered/text-to-video", "durations": [4, 8, 12]}
    return VideoModel.objects.create(
        slug="metered",
        display_name="Metered",
        vendor="Host",
        backend_key="fal",
        backend_params={**params, "price_per_second_usd": 0.1},
        supported_aspect_ratios=["16:9", "9:16"],
        max_duration_s=12,
    )


@pytest.fixture
def priced(demo_models):
    """The catalog with its real vendor models enabled: Pika 2.2 at $0.04/s (5 or 10 s), Luma
    Ray 2 without a per-second price, and a metered model at $0.10/s (4, 8 or 12 s)."""
    VideoModel.objects.filter(slug__in=["pika-2-2", "luma-ray-2"]).update(enabled=True)
    add_metered_model()
    return {m.slug: m for m in VideoModel.objects.all()}


@pytest.fixture
def limits(settings):
    """Generous defaults each test tightens as it needs."""
    settings.SUBMIT_RATE_PER_IP_PER_HOUR = 100
    settings.SUBMIT_RATE_PER_SESSION_PER_HOUR = 100
    settings.DAILY_SPEND_CAP_USD = 100.0
    settings.SPEND_UNPRICED_PER_SECOND_USD = 0.5
    settings.MAX_QUEUED_JOBS = 1000
    settings.DUPLICATE_PROMPT_WINDOW_S = 600
    return settings


def api_post(client, body, **extra):
    return client.post("/api/v1/prompts", data=json.dumps(body), content_type="application/json", **extra)


def form_post(client, text, models=("demo-aurora",), meta=None, **fields):
    data = {"text": text, "models": list(models), "aspect_ratio": "16:9", "duration_s": "2", **fields}
    return client.post("/new", data, **(meta or {}))


def submit(text, models=("demo-aurora",), submitter=VISITOR, **kwargs):
    kwargs.setdefault("duration_s", 2)
    return submit_prompt(PromptInput(text=text, models=list(models), **kwargs), submitter=submitter)


def staff_client():
    client = Client()
    client.force_login(User.objects.create_user("olga", password="pw-pw-pw-pw", is_staff=True))
    return client


def moderator_client():
    user = User.objects.create_user("mia", password="pw-pw-pw-pw")
    user.groups.add(Group.objects.get(name="moderators"))
    client = Client()
    client.force_login(user)
    return client


def with_session(client):
    """A browser that already has a session (it voted, or saw a prompt page)."""
    session = client.session
    session["seen"] = True
    session.save()
    return client


# --- rate limits ------------------------------------------------------------------------------


def test_the_form_limits_an_address_without_a_session_and_creates_none(client, demo_models, limits, sent):
    limits.SUBMIT_RATE_PER_IP_PER_HOUR = 2
    assert form_post(client, "a fox one").status_code == 302
    assert form_post(client, "a fox two").status_code == 302
    refused = form_post(client, "a fox three")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Too many prompts" in refused.content.decode()
    assert Prompt.objects.count() == 2 and GenerationJob.objects.count() == 2
    assert "sessionid" not in refused.cookies and not Session.objects.exists()
    # another address is not affected
    assert form_post(client, "a fox four", meta={"REMOTE_ADDR": "203.0.113.50"}).status_code == 302


def test_the_api_limits_an_address_with_429_and_retry_after(client, demo_models, limits, sent):
    limits.SUBMIT_RATE_PER_IP_PER_HOUR = 2
    for n in range(2):
        assert api_post(client, {"prompt": f"a kite {n}", "models": ["demo-aurora"]}).status_code == 201
    refused = api_post(client, {"prompt": "a kite 3", "models": ["demo-aurora"]})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert Prompt.objects.count() == 2


@pytest.mark.parametrize("entry", ["form", "api"])
def test_a_session_is_limited_on_its_own(demo_models, limits, sent, entry):
    limits.SUBMIT_RATE_PER_SESSION_PER_HOUR = 2

    def post(client, text):
        if entry == "form":
            return form_post(client, text)
        return api_post(client, {"prompt": text, "models": ["demo-aurora"]})

    browser = with_session(Client())
    assert [post(browser, f"a heron {n}").status_code for n in range(2)] == (
        [302] * 2 if entry == "form" else [201] * 2
    )
    refused = post(browser, "a heron 3")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    # the same address with another session (or none) may go on: the IP limit is higher
    assert post(with_session(Client()), "a heron 4").status_code in (201, 302)
    assert Prompt.objects.count() == 3


def test_a_forged_session_cookie_is_no_session(rf, db):
    request = rf.post("/api/v1/prompts", REMOTE_ADDR="192.0.2.1")
    request.user = AnonymousUser()
    request.session = SessionStore("forgedsessionkey123456")
    assert Submitter.of(request) == Submitter(ip="192.0.2.1", session_key=None, exempt=False)


def test_both_public_entry_points_pass_the_real_identity(client, demo_models, limits, sent, monkeypatch):
    seen = []
    admit = budget.admit
    monkeypatch.setattr(
        budget, "admit", lambda submitter, *a, **kw: seen.append(submitter) or admit(submitter, *a, **kw)
    )
    form_post(client, "a swan", meta={"REMOTE_ADDR": "203.0.113.9"})
    api_post(client, {"prompt": "a goose", "models": ["demo-aurora"]}, REMOTE_ADDR="203.0.113.10")
    assert [(s.ip, s.exempt) for s in seen] == [("203.0.113.9", False), ("203.0.113.10", False)]


@pytest.mark.parametrize("who", [staff_client, moderator_client])
def test_staff_and_moderators_are_exempt(priced, limits, sent, who):
    limits.SUBMIT_RATE_PER_IP_PER_HOUR = limits.SUBMIT_RATE_PER_SESSION_PER_HOUR = 1
    limits.DAILY_SPEND_CAP_USD = 0.0
    limits.MAX_QUEUED_JOBS = 1
    client = who()
    for n in range(3):
        assert form_post(client, f"a wolf {n}", models=["metered"], duration_s="4").status_code == 302
        response = api_post(client, {"prompt": f"an owl {n}", "models": ["metered"], "duration_s": 4})
        assert response.status_code == 201
    assert GenerationJob.objects.count() == 6


def test_operators_commands_are_exempt(demo_models, limits, sent):
    limits.SUBMIT_RATE_PER_IP_PER_HOUR = limits.SUBMIT_RATE_PER_SESSION_PER_HOUR = 1
    limits.MAX_QUEUED_JOBS = 1
    limits.DAILY_SPEND_CAP_USD = 0.0
    call_command("seed_demo", stdout=io.StringIO())
    assert Prompt.objects.count() > 2 and GenerationJob.objects.count() > 2


# --- the daily spend cap ------------------------------------------------------------------------


def test_a_prompt_that_would_pass_the_cap_is_refused_and_nothing_is_written(
    client, priced, limits, sent, django_capture_on_commit_callbacks
):
    limits.DAILY_SPEND_CAP_USD = 1.0
    with django_capture_on_commit_callbacks(execute=True):
        first = submit("a lighthouse", models=["metered"], duration_s=4)  # $0.40
    assert sent == [("studio.generate", [first.jobs.get().pk])]
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(BudgetError) as refused:
        submit("a harbour", models=["metered"], duration_s=8)  # $0.80: $1.20 in all
    assert refused.value.code == "daily_budget_exhausted" and refused.value.status == 503
    assert "about $0.80" in refused.value.message
    _, end = budget.day_bounds()
    assert 0 < refused.value.retry_after <= (end - timezone.now()).total_seconds() + 1
    assert Prompt.objects.count() == 1 and GenerationJob.objects.count() == 1 and len(sent) == 1
    # the API says the same, with Retry-After; the form shows the message
    response = api_post(client, {"prompt": "a harbour", "models": ["metered"], "duration_s": 8})
    assert response.status_code == 503 and response.json()["error"]["code"] == "daily_budget_exhausted"
    assert int(response["Retry-After"]) > 0
    page = form_post(client, "a harbour", models=["metered"], duration_s="8")
    assert page.status_code == 503 and "generation budget" in page.content.decode() and page["Retry-After"]
    # what still fits is accepted, to the cent ($0.40 + $0.20 + $0.20 + $0.20 = $1.00)
    for n in range(3):
        submit(f"a buoy {n}", models=["pika-2-2"], duration_s=5)
    assert budget.spent(*budget.day_bounds()) == pytest.approx(1.0)
    # free models are never refused by the cap
    submit("a demo sunset", models=["demo-aurora"])
    assert Prompt.objects.count() == 5


def test_the_seconds_billed_are_the_vendors(priced, limits, sent):
    limits.DAILY_SPEND_CAP_USD = 0.7
    with pytest.raises(BudgetError, match="about \\$0.80"):
        submit("a crane", models=["metered"], duration_s=5)  # made (and billed) as 8 s


def test_jobs_that_cost_nothing_or_are_from_yesterday_do_not_count(priced, limits, sent):
    first = submit("a canal", models=["metered"], duration_s=4)
    second = submit("a bridge", models=["metered"], duration_s=4)
    assert budget.spent(*budget.day_bounds()) == pytest.approx(0.8)
    first.jobs.update(state=JobState.CANCELLED)  # cancelled before any vendor call
    GenerationJob.objects.filter(prompt=second).update(queued_at=timezone.now() - timedelta(days=1))
    assert budget.spent(*budget.day_bounds()) == 0
    GenerationJob.objects.filter(prompt=first).update(attempts=1)  # cancelled after a vendor call: counted
    assert budget.spent(*budget.day_bounds()) == pytest.approx(0.4)


def test_a_model_without_a_price_cannot_bypass_the_cap(priced, limits, sent):
    limits.DAILY_SPEND_CAP_USD = 2.0
    with pytest.raises(BudgetError) as refused:  # Luma: 5 s counted at $0.50/s = $2.50
        submit("a desert", models=["luma-ray-2"], duration_s=5)
    assert refused.value.code == "daily_budget_exhausted"
    limits.DAILY_SPEND_CAP_USD = 3.0
    submit("a desert", models=["luma-ray-2"], duration_s=5)
    assert budget.spent(*budget.day_bounds()) == pytest.approx(2.5)
    limits.SPEND_UNPRICED_PER_SECOND_USD = 0  # then such models are refused outright
    with pytest.raises(BudgetError) as refused:
        submit("a canyon", models=["luma-ray-2"], duration_s=5)
    assert (refused.value.code, refused.value.status, refused.value.field) == ("model_unpriced", 422, "models")
    limits.DAILY_SPEND_CAP_USD = -1  # no cap at all
    submit("a canyon", models=["luma-ray-2"], duration_s=5)
    assert Prompt.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_submissions_racing_for_the_last_of_the_budget_cannot_both_pass(limits, monkeypatch):
    """Each submission reads today's spend, then waits, then writes: without the lock both read
    $0 and both pass a cap that fits one of them."""
    record_sent(monkeypatch, lambda *a: None)
    load_catalog()
    add_metered_model()
    limits.DAILY_SPEND_CAP_USD = 0.5  # one 4 s job ($0.40), not two
    spent = budget.spent

    def slow_spent(*args):
        value = spent(*args)
        time.sleep(0.5)
        return value

    monkeypatch.setattr(budget, "spent", slow_spent)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def racer(n: int) -> None:
        try:
            start.wait()
            submit(f"a race {n}", models=["metered"], duration_s=4, submitter=Submitter(ip=f"10.0.0.{n}"))
            outcomes.append("queued")
        except BudgetError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["daily_budget_exhausted", "queued"]
    assert GenerationJob.objects.count() == 1


# --- the queued-jobs cap -------------------------------------------------------------------------


def test_the_queue_cap_refuses_new_prompts_past_it(client, demo_models, limits, sent):
    limits.MAX_QUEUED_JOBS = 4
    first = submit("a meadow", models=["demo-aurora", "demo-lumen", "demo-pixel"])
    with pytest.raises(BudgetError) as refused:
        submit("a glacier", models=["demo-aurora", "demo-lumen"])  # 3 + 2 > 4
    assert (refused.value.code, refused.value.status, refused.value.retry_after) == ("queue_full", 503, 60)
    response = api_post(client, {"prompt": "a glacier", "models": ["demo-aurora", "demo-lumen"]})
    assert response.status_code == 503 and response.json()["error"]["code"] == "queue_full"
    assert response["Retry-After"] == "60"
    assert Prompt.objects.count() == 1
    submit("a glacier", models=["demo-aurora"])  # 4 fits
    first.jobs.update(state=JobState.SUCCEEDED)  # finished jobs leave the queue
    submit("a fjord", models=["demo-aurora", "demo-lumen"])
    # held jobs hold a place: 1 queued + 2 running + 3 held
    GenerationJob.objects.filter(prompt__text="a fjord").update(state=JobState.RUNNING)
    limits.MAX_QUEUED_JOBS = 6
    held = submit("Elon Musk riding a horse on Mars", models=["demo-aurora", "demo-lumen", "demo-pixel"])
    assert held.moderation == ModerationState.HELD
    with pytest.raises(BudgetError, match="too many videos"):
        submit("a tundra", models=["demo-aurora"])


# --- duplicates ------------------------------------------------------------------------------------


def test_the_same_prompt_again_returns_the_earlier_one(client, demo_models, limits, sent):
    body = {"prompt": "a red kite over the sea", "models": ["demo-aurora", "demo-pixel"], "duration_s": 3}
    first = api_post(client, body)
    assert first.status_code == 201 and first.json()["duplicate"] is False
    sent.clear()
    again = api_post(
        Client(), {**body, "prompt": "  A red   kite over the SEA ", "models": ["demo-pixel", "demo-aurora"]}
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["id"] == first.json()["id"]
    assert again["Location"].endswith(f"/api/v1/prompts/{first.json()['id']}")
    assert Prompt.objects.count() == 1 and GenerationJob.objects.count() == 2 and sent == []
    # the web form lands on the same prompt
    page = form_post(Client(), "a red kite over the sea", models=["demo-aurora", "demo-pixel"], duration_s="3")
    assert page.status_code == 302 and page["Location"] == f"/p/{first.json()['id']}"
    assert Prompt.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"models": ["demo-aurora"]},
        {"duration_s": 4},
        {"aspect_ratio": "9:16"},
        {"negative_prompt": "blur"},
        {"seed": 8},
        {"text": "a red kite over the bay"},
    ],
)
def test_a_different_prompt_is_no_duplicate(demo_models, limits, sent, change):
    base = {"text": "a red kite over the sea", "models": ["demo-aurora", "demo-pixel"], "duration_s": 3, "seed": 7}
    submit(**base)
    submit(**{**base, **change})
    assert Prompt.objects.count() == 2


def test_without_a_seed_any_seed_matches_and_the_window_ends(demo_models, limits, sent):
    first = submit("a pelican", seed=7)
    assert submit("a pelican") == first
    assert submit("a pelican", seed=7) == first
    Prompt.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(seconds=601))
    assert submit("a pelican") != first
    limits.DUPLICATE_PROMPT_WINDOW_S = 0
    assert Prompt.objects.count() == 2 and submit("a pelican") != first


def test_a_held_prompt_matches_and_a_rejected_one_does_not(client, demo_models, limits, sent):
    body = {"prompt": "Elon Musk riding a horse on Mars", "models": ["demo-aurora"]}
    held = api_post(client, body)
    assert held.status_code == 202
    again = api_post(client, body)
    assert again.status_code == 200 and again.json()["id"] == held.json()["id"] and again.json()["duplicate"]
    Prompt.objects.update(moderation=ModerationState.REJECTED)  # a moderator said no
    assert api_post(client, body).status_code == 202 and Prompt.objects.count() == 2


# --- the operators' page ---------------------------------------------------------------------------


def test_the_ops_page_is_for_staff_only(client, db):
    assert client.get("/ops/").status_code == 403
    user = User.objects.create_user("ursula", password="pw-pw-pw-pw")
    client.force_login(user)
    assert client.get("/ops/").status_code == 403
    assert moderator_client().get("/ops/").status_code == 403
    assert client.post("/ops/").status_code in (403, 405)
    assert staff_client().get("/ops/").status_code == 200


def test_the_ops_page_shows_spend_and_queue_against_their_caps(priced, limits, sent):
    limits.DAILY_SPEND_CAP_USD = 20.0
    limits.MAX_QUEUED_JOBS = 200
    submit("a comet", models=["metered"], duration_s=4)  # $0.40
    submit("a meteor", models=["metered", "demo-aurora"], duration_s=4)  # $0.40 + $0
    submit("an eclipse", models=["pika-2-2"], duration_s=2)  # billed 5 s: $0.20
    submit("a nebula", models=["luma-ray-2"], duration_s=5)  # no price: 5 s at $0.50
    GenerationJob.objects.filter(model__slug="pika-2-2").update(state=JobState.SUCCEEDED, cost_usd="0.2000")
    report = budget.report()
    assert report.spent_usd == pytest.approx(3.5) and report.cap_usd == 20.0
    assert (report.queued_jobs, report.queue_cap) == (4, 200)
    assert [(r.model.slug, r.jobs) for r in report.by_model] == [
        ("luma-ray-2", 1),
        ("metered", 2),
        ("pika-2-2", 1),
        ("demo-aurora", 1),
    ]
    page = staff_client().get("/ops/").content.decode()
    assert "$3.50 of $20.00 cap" in page and "4 of 200 cap" in page
    assert 'data-model="metered"><td>Metered</td><td>2</td><td>8</td>' in page
    assert "no catalog price: counted at $0.50/s" in page
    pika_row = "".join(page[page.index('data-model="pika-2-2"') :].split("</tr>")[0].split())
    assert "$0.20</td><td>$0.20</td>" in pika_row
    assert '<a href="/ops/">Ops</a>' in page
