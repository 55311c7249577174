"""Sessions are kept only when there is something to keep, and purged when they expire
(issue 12: cookieless visitors wrote a session per page, and nothing ever ran clearsessions)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from webapp.arena import tasks
from webapp.arena.models import NamedView
from webapp.core.clients import keyed_digest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/arena", "/leaderboard", "/models", "/api/v1/prompts", "/api/v1/models"])
def test_a_cookieless_visit_stores_no_session(client, demo_models, path):
    response = client.get(path)
    assert response.status_code == 200
    assert Session.objects.count() == 0
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_the_beat_task_purges_expired_sessions_only():
    now = timezone.now()
    Session.objects.create(session_key="a" * 32, session_data="", expire_date=now - timedelta(seconds=1))
    Session.objects.create(session_key="b" * 32, session_data="", expire_date=now + timedelta(days=1))
    assert "arena.clear_expired_sessions" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    tasks.clear_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["b" * 32]


def test_an_expired_voters_named_views_go_with_their_session(make_clips):
    prompt = make_clips(prompts=1)[0]
    now = timezone.now()
    for key, expires in (("c" * 32, now - timedelta(seconds=1)), ("d" * 32, now + timedelta(days=1))):
        Session.objects.create(session_key=key, session_data="", expire_date=expires)
        NamedView.objects.create(voter_key=keyed_digest("session", key), prompt=prompt)
    NamedView.objects.create(voter_key=keyed_digest("user", "7"), prompt=prompt)  # an account's: kept
    tasks.clear_expired_sessions()
    kept = set(NamedView.objects.values_list("voter_key", flat=True))
    assert kept == {keyed_digest("session", "d" * 32), keyed_digest("user", "7")}
