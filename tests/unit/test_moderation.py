"""Moderation end to end in one process, on PostgreSQL and real files: the policy at
submission, the review queue's decisions and their effects (gallery, API, media, battle pool,
votes, board), the append-only audit log, permissions, CSRF and the login throttle.

Over ~400 lines on purpose: the moderation round trip (policy, decisions, queue, permissions,
audit) shares its fixtures, and its sections follow a prompt through it.
"""

import csv
import io

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from tests.arena_support import ready_battle, served_battle
from tests.conftest import clear_test_cache, record_sent
from webapp.arena.models import Vote
from webapp.arena.services import battles, exclusions, refresh
from webapp.arena.services.voters import Voter
from webapp.arena.services.votes import cast_vote
from webapp.gallery.models import SideBySideExport
from webapp.moderation import decisions
from webapp.moderation.models import AppendOnly, AuditEntry, Report
from webapp.moderation.services import report
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt
from webapp.studio.services import queue
from webapp.studio.services.submission import PromptInput, SubmissionError, submit_prompt

pytestmark = pytest.mark.django_db

WATCHED = {"watched_left_s": 2.0, "watched_right_s": 2.0}


@pytest.fixture(autouse=True)
def clean_cache(fresh_cache):
    return fresh_cache


@pytest.fixture
def sent(monkeypatch):
    """Every Celery message the code sends (tasks run on commit)."""
    messages = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args)))
    return messages


@pytest.fixture
def moderator(db):
    user = User.objects.create_user("mia", password="correct horse battery staple")
    user.groups.add(Group.objects.get(name="moderators"))  # made by the data migration
    return user


@pytest.fixture
def mod_client(moderator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    return client


def csrf_post(client, path, data, **extra):
    """A POST with the CSRF token a browser would have (cookie + form field)."""
    client.get("/moderation/")
    token = client.cookies["csrftoken"].value
    return client.post(path, {**data, "csrfmiddlewaretoken": token}, **extra)


# --- the policy at submission --------------------------------------------------------------------


def test_allowed_prompt_is_queued_and_audited(demo_models, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        prompt = submit_prompt(PromptInput(text="a red fox in fresh snow"))
    assert prompt.moderation == "allowed"
    assert {j.state for j in prompt.jobs.all()} == {JobState.QUEUED}
    assert len(sent) == len(demo_models)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_id, entry.actor_label) == ("policy_allow", prompt.public_id, "policy")
    assert entry.after["outcome"] == "allow"


def test_held_prompt_is_stored_with_held_jobs_and_nothing_is_sent(
    demo_models, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        prompt = submit_prompt(PromptInput(text="Elon Musk riding a horse on Mars"))
    assert prompt.moderation == "held"
    assert {j.state for j in prompt.jobs.all()} == {JobState.HELD}
    assert sent == []
    entry = AuditEntry.objects.get()
    assert entry.action == "policy_hold" and entry.after["findings"][0]["rule"] == "public_figure_named"
    # No worker can take a held job, and the reaper does not resend it.
    from webapp.studio.services import jobs

    job = prompt.jobs.first()
    assert jobs.claim(job.pk, stage=JobState.RUNNING, owner="w pid 1") is None
    GenerationJob.objects.filter(pk=job.pk).update(queued_at="2000-01-01T00:00:00Z")
    assert jobs.reap_stale_jobs() == {"resent": 0, "failed": 0}


def test_rejected_prompt_writes_nothing_but_the_audit_entry(demo_models, sent):
    with pytest.raises(SubmissionError) as caught:
        submit_prompt(PromptInput(text="a naked woman on a beach"))
    assert caught.value.code == "policy_rejected" and "Sexual" in caught.value.message
    assert Prompt.objects.count() == 0 and GenerationJob.objects.count() == 0 and sent == []
    entry = AuditEntry.objects.get()
    assert entry.action == "policy_reject" and entry.target_id == ""
    assert entry.after["prompt"] == "a naked woman on a beach" and entry.after["findings"][0]["category"] == "sexual"


def test_web_form_and_api_tell_the_submitter(client, demo_models, sent):
    form = {"duration_s": "2", "aspect_ratio": "16:9", "models": [m.slug for m in demo_models]}
    held = client.post("/new", {"text": "Paris Hilton dancing on a yacht", **form}, follow=True)
    assert held.status_code == 200 and "awaits review" in held.content.decode()
    rejected = client.post("/new", {"text": "beheading video in the desert", **form})
    assert rejected.status_code == 400 and "Graphic violence" in rejected.content.decode()
    api = client.post("/api/v1/prompts", {"prompt": "my ex-girlfriend crying"}, content_type="application/json")
    assert api.status_code == 202 and api.json()["moderation"]["state"] == "held"
    assert "awaits review" in api.json()["moderation"]["message"]
    refused = client.post("/api/v1/prompts", {"prompt": "kill all the immigrants"}, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "policy_rejected"
    # Held prompts are not listed publicly.
    assert client.get("/api/v1/prompts").json()["count"] == 0
    assert "Paris Hilton" not in client.get("/").content.decode()


# --- decisions and their effects -----------------------------------------------------------------


def test_approving_a_held_prompt_queues_its_jobs(demo_models, moderator, sent, django_capture_on_commit_callbacks):
    prompt = submit_prompt(PromptInput(text="Elon Musk riding a horse on Mars"))
    with django_capture_on_commit_callbacks(execute=True):
        decisions.approve_prompt(prompt.public_id, actor=moderator, reason="Satire, clearly not real")
    prompt.refresh_from_db()
    assert prompt.moderation == "allowed" and {j.state for j in prompt.jobs.all()} == {JobState.QUEUED}
    assert sorted(args[0] for name, args in sent if name == queue.GENERATE.name) == sorted(
        prompt.jobs.values_list("pk", flat=True)
    )
    entry = AuditEntry.objects.filter(action="approve").get()
    assert entry.actor == moderator and entry.reason == "Satire, clearly not real"
    assert entry.before["moderation"] == "held" and entry.after["moderation"] == "allowed"
    assert set(entry.before["jobs"].values()) == {"held"} and set(entry.after["jobs"].values()) == {"queued"}


def test_a_decision_needs_a_reason(demo_models, moderator):
    prompt = submit_prompt(PromptInput(text="Elon Musk riding a horse on Mars"))
    with pytest.raises(decisions.DecisionError) as caught:
        decisions.approve_prompt(prompt.public_id, actor=moderator, reason="  ")
    assert caught.value.code == "reason_required"
    assert Prompt.objects.get().moderation == "held"


def test_rejecting_a_prompt_cancels_jobs_hides_clips_and_deletes_files(
    make_clips, moderator, media_root, django_capture_on_commit_callbacks, sent
):
    prompt = make_clips(prompts=1)[0]
    clip = Clip.objects.filter(job__prompt=prompt).first()
    # One more job still waiting in the queue, and a stored original for every clip.
    from webapp.catalog.models import VideoModel

    extra = VideoModel.objects.create(slug="vendorx", display_name="VendorX", vendor="VendorX", backend_key="demo")
    queued = GenerationJob.objects.create(prompt=prompt, model=extra)
    for c in Clip.objects.filter(job__prompt=prompt):
        (media_root / "originals").mkdir(exist_ok=True)
        name = f"originals/{c.public_id}.mp4"
        (media_root / name).write_bytes(b"original")
        (media_root / "posters").mkdir(exist_ok=True)
        (media_root / c.poster.name).write_bytes(b"jpg")
        Clip.objects.filter(pk=c.pk).update(original=name)
    files = [
        media_root / n
        for c in Clip.objects.filter(job__prompt=prompt)
        for n in (c.web.name, c.poster.name, c.original.name)
    ]
    # A finished side-by-side export of its clips shows them too.
    (media_root / "exports").mkdir(exist_ok=True)
    (media_root / "exports" / "sbs.mp4").write_bytes(b"mp4")
    SideBySideExport.objects.create(
        prompt=prompt, selection_key="k" * 64, clips=[clip.public_id], state="succeeded", file="exports/sbs.mp4"
    )
    files.append(media_root / "exports" / "sbs.mp4")
    assert all(f.exists() for f in files)
    with django_capture_on_commit_callbacks(execute=True):
        decisions.reject_prompt(prompt.public_id, actor=moderator, reason="Depicts a real person")
    assert not SideBySideExport.objects.exists()
    queued.refresh_from_db()
    assert queued.state == JobState.CANCELLED and queued.error_code == "prompt_rejected"
    assert not any(f.exists() for f in files)
    assert set(Clip.objects.filter(job__prompt=prompt).values_list("hidden", flat=True)) == {True}
    assert Prompt.objects.get().moderation == "rejected"
    assert not battles.arena_clips("official").exists()
    client = Client()
    page = client.get(f"/p/{prompt.public_id}").content.decode()
    assert "rejected" in page and prompt.text not in page
    assert client.get(f"/c/{clip.public_id}").status_code == 404
    with pytest.raises(decisions.DecisionError, match="rejected"):
        decisions.restore_clip(clip.public_id, actor=moderator, reason="changed my mind")


def voted_battle(voter_key: str) -> Vote:
    voter = Voter(voter_key, "ip-" + voter_key)
    battle = ready_battle(voter)
    return cast_vote(voter, token=battles.sign(battle), choice="left", **WATCHED).vote


def voted_in_browser(client) -> Vote:
    """A vote cast through the pages, so `client` is the battle's voter (its media is theirs)."""
    battle, token = served_battle(client)
    client.post("/arena/vote", {"token": token, "choice": "left", **WATCHED})
    return Vote.objects.get(battle=battle)


def test_hiding_a_clip_takes_it_out_everywhere_and_restore_brings_it_back(
    make_clips, demo_models, moderator, sent, django_capture_on_commit_callbacks
):
    make_clips(prompts=1, models=demo_models[:2])  # one pair only, so both voters get it
    voter_browser = Client()
    vote = voted_in_browser(voter_browser)
    other = voted_battle("v2")  # the same pair, another voter
    clip = vote.battle.left
    already_excluded = Vote.objects.create(
        battle=None,
        model_a=vote.model_a,
        model_b=vote.model_b,
        winner="tie",
        pool="official",
        voter_key="v3",
        excluded_reason="not_watched",
        created_at=vote.created_at,
    )
    public = Client()
    battle_url = f"/arena/b/{vote.battle.public_id}/left.mp4"
    media_url = f"/media/{clip.web.name}"
    assert voter_browser.get(battle_url).status_code == 200 and public.get(media_url).status_code == 200
    assert public.get(battle_url).status_code == 404  # a battle's media is its voter's only

    with django_capture_on_commit_callbacks(execute=True):
        decisions.hide_clip(clip.public_id, actor=moderator, reason="Depicts a real person")
    assert ("arena.refresh_boards", None) in sent  # the board is recomputed
    assert voter_browser.get(battle_url).status_code == 404
    assert voter_browser.get(f"/arena/b/{vote.battle.public_id}/right.mp4").status_code == 404
    assert public.get(media_url).status_code == 404
    assert public.get(f"/c/{clip.public_id}").status_code == 404
    assert not battles.arena_clips("official").filter(pk=clip.pk).exists()
    api_jobs = public.get(f"/api/v1/prompts/{clip.job.prompt.public_id}").json()["jobs"]
    hidden_job = next(j for j in api_jobs if j["model"] == clip.job.model.slug)
    assert hidden_job["clip"] is None and hidden_job["hidden"] is True
    assert clip.web.name not in public.get("/api/v1/prompts").content.decode()
    assert clip.poster.name not in public.get("/").content.decode()
    assert set(Vote.objects.filter(pk__in=[vote.pk, other.pk]).values_list("excluded_reason", flat=True)) == {
        "hidden_clip"
    }
    assert Vote.objects.count() == 3  # excluded, never deleted

    with django_capture_on_commit_callbacks(execute=True):
        decisions.restore_clip(clip.public_id, actor=moderator, reason="Report was mistaken")
    assert set(Vote.objects.filter(pk__in=[vote.pk, other.pk]).values_list("excluded_reason", flat=True)) == {""}
    already_excluded.refresh_from_db()
    assert already_excluded.excluded_reason == "not_watched"  # only its own exclusions are undone
    assert voter_browser.get(battle_url).status_code == 200 and public.get(media_url).status_code == 200
    assert battles.arena_clips("official").filter(pk=clip.pk).exists()
    hide, restore = AuditEntry.objects.filter(action__in=["hide", "restore"]).order_by("id")
    assert hide.before == {"hidden": False, "counted_votes": 2, "votes_excluded_hidden_clip": 0}
    assert hide.after["hidden"] is True and hide.after["votes_excluded"] == 2
    assert restore.after == {"hidden": False, "counted_votes": 2, "votes_excluded_hidden_clip": 0, "votes_recounted": 2}


def test_restoring_one_clip_keeps_votes_whose_other_clip_is_still_hidden(make_clips, moderator, sent):
    make_clips(prompts=1)
    vote = voted_battle("v1")
    decisions.hide_clip(vote.battle.left.public_id, actor=moderator, reason="violence")
    decisions.hide_clip(vote.battle.right.public_id, actor=moderator, reason="violence")
    decisions.restore_clip(vote.battle.left.public_id, actor=moderator, reason="fine after all")
    vote.refresh_from_db()
    assert vote.excluded_reason == "hidden_clip"


def test_a_vote_on_a_battle_served_before_the_hide_does_not_count(make_clips, moderator, sent):
    make_clips(prompts=1)
    voter = Voter("v1", "ip1")
    battle = ready_battle(voter)
    decisions.hide_clip(battle.right.public_id, actor=moderator, reason="gore")
    vote = cast_vote(voter, token=battles.sign(battle), choice="left", **WATCHED).vote
    assert vote.excluded_reason == "hidden_clip"


def test_the_official_board_drops_votes_on_hidden_clips(make_clips, moderator, sent, settings):
    from webapp.arena.services import board

    settings.LEADERBOARD_MIN_VOTES, settings.RATING_BOOTSTRAP_ROUNDS = 1, 50
    make_clips(prompts=1)
    vote = voted_battle("v1")
    assert board.recompute("official").votes_counted == 1
    decisions.hide_clip(vote.battle.left.public_id, actor=moderator, reason="violence")
    assert board.recompute("official").votes_counted == 0
    decisions.restore_clip(vote.battle.left.public_id, actor=moderator, reason="fine after all")
    assert board.recompute("official").votes_counted == 1


# --- the queue ------------------------------------------------------------------------------------


def test_queue_orders_most_reported_then_oldest_and_decisions_swap_without_reload(
    make_clips, demo_models, mod_client, sent
):
    make_clips(prompts=1)
    clips = list(Clip.objects.order_by("id"))
    held = submit_prompt(PromptInput(text="Elon Musk riding a horse on Mars"))
    for key in ("a", "b", "b", "c"):  # the repeated report from "b" counts once
        report(reporter_key=key, reason="violence", clip=clips[1])
    report(reporter_key="a", reason="broken", clip=clips[0])
    page = mod_client.get("/moderation/").content.decode()
    order = [page.index(f'data-id="{x}"') for x in (clips[1].public_id, clips[0].public_id, held.public_id)]
    assert order == sorted(order), "most-reported first, then oldest"
    assert "Graphic violence ×3" in page
    assert f"/moderation/clips/{clips[1].public_id}.mp4" in page  # playable inline

    response = csrf_post(
        mod_client,
        "/moderation/decide",
        {
            "kind": "clip",
            "action": "hide",
            "ids": [clips[1].public_id, clips[0].public_id],
            "reason": "Graphic violence",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "2 clips hidden." in response.content.decode()
    assert response.content.decode().lstrip().startswith('<div id="queue"')  # a fragment, not a page
    assert Clip.objects.filter(hidden=True).count() == 2
    assert Report.objects.filter(resolved_at__isnull=True).count() == 0
    # Hidden clips stay playable for moderators, and can be restored from the queue.
    assert mod_client.get(f"/moderation/clips/{clips[1].public_id}.mp4").status_code == 200
    bad = csrf_post(
        mod_client,
        "/moderation/decide",
        {"kind": "clip", "action": "reject", "ids": [clips[1].public_id], "reason": "x y z"},
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 400 and bad["HX-Retarget"] == "#decision-message"
    no_reason = csrf_post(
        mod_client, "/moderation/decide", {"kind": "prompt", "action": "approve", "ids": [held.public_id], "reason": ""}
    )
    assert no_reason.status_code == 400 and Prompt.objects.get(pk=held.pk).moderation == "held"


# --- permissions and CSRF -------------------------------------------------------------------------

MODERATION_REQUESTS = [
    ("get", "/moderation/", {}),
    ("post", "/moderation/decide", {"kind": "prompt", "action": "approve", "ids": ["x"], "reason": "ok then"}),
    ("get", "/moderation/clips/{clip}.mp4", {}),
    ("get", "/moderation/audit", {}),
    ("get", "/moderation/audit.csv", {}),
]


@pytest.mark.parametrize("method, path, data", MODERATION_REQUESTS)
@pytest.mark.parametrize("who", ["anonymous", "staff_without_permission"])
def test_every_moderation_view_is_403_without_the_permission(make_clips, method, path, data, who):
    make_clips(prompts=1)
    client = Client()
    if who != "anonymous":
        client.force_login(User.objects.create_user("sam", password="pw-pw-pw-pw", is_staff=True))
    path = path.format(clip=Clip.objects.first().public_id)
    response = getattr(client, method)(path, data)
    assert response.status_code == 403
    assert Clip.objects.filter(hidden=True).count() == 0


@pytest.mark.parametrize("method, path, data", MODERATION_REQUESTS)
def test_a_moderator_gets_through(make_clips, mod_client, method, path, data):
    make_clips(prompts=1)
    response = (
        mod_client.get(path.format(clip=Clip.objects.first().public_id))
        if method == "get"
        else csrf_post(mod_client, path, data)
    )
    assert response.status_code in (200, 302)


def test_admin_actions_need_the_permission_too(make_clips, moderator, sent):
    make_clips(prompts=1)
    clip = Clip.objects.first()
    staff = User.objects.create_superuser("root", password="pw-pw-pw-pw")
    moderator.is_staff = True
    moderator.save()
    from django.contrib.auth.models import Permission

    moderator.user_permissions.add(Permission.objects.get(codename="view_clip"))
    outsider = User.objects.create_user("clerk", password="pw-pw-pw-pw", is_staff=True)
    outsider.user_permissions.add(Permission.objects.get(codename="view_clip"))
    outsider_client = Client()
    outsider_client.force_login(outsider)
    listing = outsider_client.get("/admin/studio/clip/").content.decode()
    assert "hide_clips" not in listing
    client = Client()
    client.force_login(moderator)
    assert "hide_clips" in client.get("/admin/studio/clip/").content.decode()
    response = client.post(
        "/admin/studio/clip/",
        {"action": "hide_clips", "_selected_action": [clip.pk], "reason": "Depicts a real person"},
        follow=True,
    )
    assert response.status_code == 200
    assert Clip.objects.get(pk=clip.pk).hidden
    assert AuditEntry.objects.get(action="hide").actor == moderator
    assert staff.has_perm("moderation.moderate")  # superusers have every permission


def test_state_changes_need_csrf(make_clips, mod_client):
    make_clips(prompts=1)
    clip = Clip.objects.first()
    response = mod_client.post(
        "/moderation/decide", {"kind": "clip", "action": "hide", "ids": [clip.public_id], "reason": "violence"}
    )
    assert response.status_code == 403 and not Clip.objects.get(pk=clip.pk).hidden
    visitor = Client(enforce_csrf_checks=True)
    assert visitor.post("/report", {"kind": "clip", "id": clip.public_id, "reason": "violence"}).status_code == 403
    assert Report.objects.count() == 0


def test_visitors_report_from_the_prompt_page(make_clips):
    prompt = make_clips(prompts=1)[0]
    clip = Clip.objects.first()
    client = Client()
    # Not from the gallery's tiles (issue 14: a report box under every tile), from the prompt's page.
    assert 'name="kind" value="prompt"' not in client.get("/").content.decode()
    page = client.get(f"/p/{prompt.public_id}").content.decode()
    assert 'name="kind" value="prompt"' in page
    assert f'value="{clip.public_id}"' in page
    first = client.post("/report", {"kind": "clip", "id": clip.public_id, "reason": "violence"})
    again = client.post("/report", {"kind": "clip", "id": clip.public_id, "reason": "sexual"})
    assert "moderator" in first.content.decode() and "counts once" in again.content.decode()
    assert client.post("/report", {"kind": "prompt", "id": prompt.public_id, "reason": "bogus"}).status_code == 400
    assert client.post("/report", {"kind": "clip", "id": "nope", "reason": "other"}).status_code == 404
    assert Report.objects.count() == 1


def test_login_attempts_are_throttled(moderator, settings):
    settings.LOGIN_FAILURES_LIMIT = 3
    client = Client()
    for _ in range(2):
        assert client.post("/accounts/login/", {"username": "mia", "password": "wrong"}).status_code == 200
    third = client.post("/accounts/login/", {"username": "mia", "password": "wrong"})
    assert third.status_code == 429  # its password was checked; now the account is locked here
    blocked = client.post("/accounts/login/", {"username": "mia", "password": "correct horse battery staple"})
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    # The admin's login form goes through the same backend: refused while throttled.
    admin_login = Client().post("/admin/login/", {"username": "mia", "password": "correct horse battery staple"})
    assert "_auth_user_id" not in admin_login.wsgi_request.session
    clear_test_cache()
    ok = Client().post("/accounts/login/", {"username": "mia", "password": "correct horse battery staple"})
    assert ok.status_code == 302 and ok["Location"] == "/moderation/"


# --- the audit log ------------------------------------------------------------------------------


def test_the_audit_log_is_append_only(demo_models, moderator):
    submit_prompt(PromptInput(text="a red fox in fresh snow"))
    entry = AuditEntry.objects.get()
    entry.reason = "rewritten history"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.update(reason="x")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().reason == ""
    from django.contrib.admin.sites import site

    admin = site._registry[AuditEntry]
    request = type("R", (), {"user": moderator})()
    assert not admin.has_add_permission(request) and not admin.has_change_permission(request)
    assert not admin.has_delete_permission(request)


def test_audit_page_filters_and_csv_export(demo_models, mod_client):
    submit_prompt(PromptInput(text="a red fox in fresh snow"))
    held = submit_prompt(PromptInput(text="Elon Musk riding a horse on Mars"))
    with pytest.raises(SubmissionError):
        submit_prompt(PromptInput(text="=HYPERLINK(1) beheading video"))
    page = mod_client.get("/moderation/audit?action=policy_hold").content.decode()
    assert f'data-target="{held.public_id}"' in page and 'data-action="policy_allow"' not in page
    rows = list(csv.reader(io.StringIO(b"".join(mod_client.get("/moderation/audit.csv").streaming_content).decode())))
    assert rows[0] == ["created_at", "actor", "action", "target_kind", "target_id", "reason", "before", "after"]
    assert sorted(r[2] for r in rows[1:]) == ["policy_allow", "policy_hold", "policy_reject"]
    only_rejects = list(
        csv.reader(
            io.StringIO(
                b"".join(mod_client.get("/moderation/audit.csv?action=policy_reject").streaming_content).decode()
            )
        )
    )
    assert len(only_rejects) == 2 and '"prompt": "=HYPERLINK(1) beheading video"' in only_rejects[1][7]


def test_a_vote_that_raced_a_decision_is_reconciled_by_the_next_recompute(
    make_clips, moderator, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    record_sent(monkeypatch, lambda name, args, countdown: sent.append((name, countdown)))

    make_clips(prompts=2)
    raced_hide = voted_battle("v1")
    for k in range(2, 30):  # the restore racer's battle must not show the clip that gets hidden
        raced_restore = voted_battle(f"v{k}")
        shown = {raced_restore.battle.left_id, raced_restore.battle.right_id}
        hidden = next((c for c in (raced_hide.battle.left, raced_hide.battle.right) if c.pk not in shown), None)
        if hidden is not None:
            break
    imported = Vote.objects.create(
        battle=None,
        model_a=raced_hide.model_a,
        model_b=raced_hide.model_b,
        winner="tie",
        pool="official",
        voter_key="import",
        excluded_reason="hidden_clip",
        created_at=raced_hide.created_at,
    )
    with django_capture_on_commit_callbacks(execute=True):
        decisions.hide_clip(hidden.public_id, actor=moderator, reason="violence")
    # What a vote whose INSERT committed just after the hide looks like: read "visible", counted.
    Vote.objects.filter(pk=raced_hide.pk).update(excluded_reason="")
    # And one cast during a restore: read "hidden", excluded, though the clips are visible now.
    Vote.objects.filter(pk=raced_restore.pk).update(excluded_reason="hidden_clip")
    # sent with a delay, so that votes in flight during the decision have committed
    assert sent == [("arena.refresh_boards", decisions.RECONCILE_DELAY_S)]

    refresh.refresh_boards()
    reasons = dict(Vote.objects.values_list("pk", "excluded_reason"))
    assert reasons[raced_hide.pk] == "hidden_clip" and reasons[raced_restore.pk] == ""
    assert reasons[imported.pk] == "hidden_clip"  # not ours to judge: no battle
    assert exclusions.reconcile_hidden_clips() == {"excluded": 0, "recounted": 0}
