"""Sessions are kept only when there is something to keep, and purged when they expire
(issue 12: cookieless visitors wrote a session per page, and nothing ever ran clearsessions)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from webapp.arena import tasks

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
