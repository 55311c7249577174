import pytest
from django.core.management import call_command

from tests.conftest import record_sent
from webapp.studio.models import GenerationJob, Prompt

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_both_pools_once(monkeypatch, capsys):
    record_sent(monkeypatch, lambda *a: None)
    call_command("seed_demo")
    official = Prompt.objects.filter(pool="official")
    assert official.count() == 12 and official.values("category").distinct().count() == 12
    assert Prompt.objects.filter(pool="community").count() == 4
    assert GenerationJob.objects.count() == 16 * 3
    call_command("seed_demo")
    assert Prompt.objects.count() == 16  # idempotent on a non-empty arena
