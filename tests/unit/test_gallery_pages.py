"""The gallery (search, filters, sort, constant queries), the comparison page (selection from
a deep link, errors, the named-view signal), export requests and status, model pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.arena_support import start_voting
from webapp.arena.models import NamedView, RatingSnapshot
from webapp.gallery.models import ExportState, SideBySideExport
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt

pytestmark = pytest.mark.django_db


def test_gallery_search_filters_and_sort(client, make_clips, demo_models):
    fox, other = make_clips(prompts=2, category="animals")
    Prompt.objects.filter(pk=other.pk).update(
        text="a blue whale", category="sea", created_at=timezone.now() - timedelta(days=3)
    )
    GenerationJob.objects.filter(prompt=other, model=demo_models[0]).update(state=JobState.FAILED)
    page = client.get("/", {"q": "FOX"}).content.decode()
    assert "a red fox number 0" in page and "blue whale" not in page
    assert "blue whale" in client.get("/", {"category": "sea"}).content.decode()
    assert "red fox" not in client.get("/", {"category": "sea"}).content.decode()
    failing = client.get("/", {"status": "has_failures"}).content.decode()
    assert "blue whale" in failing and "red fox" not in failing
    complete = client.get("/", {"status": "complete"}).content.decode()
    assert "red fox" in complete and "blue whale" not in complete
    recent = client.get("/", {"since": (timezone.now() - timedelta(days=1)).date().isoformat()}).content.decode()
    assert "red fox" in recent and "blue whale" not in recent
    oldest = client.get("/", {"sort": "oldest"}).content.decode()
    assert oldest.index("blue whale") < oldest.index("red fox")
    newest = client.get("/").content.decode()
    assert newest.index("red fox") < newest.index("blue whale")


def test_gallery_filters_by_model(client, make_clips, demo_models):
    make_clips(prompts=1, models=demo_models[:1])
    only_two = make_clips(prompts=1, models=demo_models[1:])[0]
    Prompt.objects.filter(pk=only_two.pk).update(text="two models only")
    page = client.get("/", {"model": demo_models[0].slug}).content.decode()
    assert "two models only" not in page and "red fox number 0" in page
    assert "two models only" in client.get("/", {"model": demo_models[1].slug}).content.decode()


def test_gallery_bad_filters_are_a_clear_400(client, demo_models):
    response = client.get("/", {"since": "2024-05-02", "until": "2024-05-01"})
    assert response.status_code == 400 and "must be on or before" in response.content.decode()
    response = client.get("/", {"model": "no-such-model"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_gallery_pages_cost_the_same_number_of_queries(client, make_clips, demo_models, django_assert_num_queries):
    make_clips(prompts=30)
    with django_assert_num_queries(5) as first:  # session-less: models + categories + count + page + jobs
        client.get("/", {"q": "fox", "model": demo_models[0].slug, "status": "complete"})
    with django_assert_num_queries(len(first.captured_queries)):
        response = client.get("/", {"q": "fox", "model": demo_models[0].slug, "status": "complete", "page": 3})
    assert "Page 3 of 3" in response.content.decode()


def compare_url(prompt, *slugs, t=None):
    url = f"/p/{prompt.public_id}/compare?models={','.join(slugs)}"
    return url + (f"&t={t}" if t is not None else "")


def test_compare_page_shows_the_chosen_clips_in_link_order(client, make_clips, demo_models):
    prompt = make_clips(prompts=1)[0]
    slugs = [m.slug for m in demo_models]
    start_voting(client)  # a voter: the named view is recorded (a mere visitor leaves no row)
    response = client.get(compare_url(prompt, slugs[2], slugs[0], t=1.25))
    html = response.content.decode()
    assert response.status_code == 200
    grid = html[html.index("compare-grid") : html.index('class="transport"')]
    assert grid.count("<video") == 2
    assert grid.index(demo_models[2].label) < grid.index(demo_models[0].label)
    assert 'data-start="1.250"' in html and "data-sync-step" in html and "data-wipe-slider" in html
    assert f"models={slugs[2]},{slugs[0]}&amp;t=1.25" in html  # the share link
    # Named results: the arena records the view so this visitor's later votes can be set aside.
    assert NamedView.objects.filter(prompt=prompt).count() == 1


def test_compare_without_selection_takes_every_finished_clip(client, make_clips):
    prompt = make_clips(prompts=1)[0]
    html = client.get(f"/p/{prompt.public_id}/compare").content.decode()
    assert html[html.index("compare-grid") : html.index('class="transport"')].count("<video") == 3


@pytest.mark.parametrize(
    "query, code",
    [
        ("models=demo-aurora,nope", "unknown_model"),
        ("models=demo-aurora", "selection_size"),
        ("models=demo-aurora,demo-lumen&t=-1", "invalid_time"),
        ("models=demo-aurora,demo-lumen&t=abc", "invalid_time"),
        ("models=demo-aurora,demo-lumen&t=nan", "invalid_time"),
    ],
)
def test_compare_rejects_bad_links_clearly(client, make_clips, query, code):
    prompt = make_clips(prompts=1)[0]
    response = client.get(f"/p/{prompt.public_id}/compare?{query}")
    assert response.status_code == 400
    assert f'data-error-code="{code}"' in response.content.decode()


def test_compare_of_unknown_prompt_is_404(client, db):
    assert client.get("/p/nope/compare").status_code == 404


def test_prompt_page_links_to_the_comparison(client, make_clips):
    prompt = make_clips(prompts=1)[0]
    assert f"/p/{prompt.public_id}/compare" in client.get(f"/p/{prompt.public_id}").content.decode()


def test_export_request_is_cached_by_selection(client, make_clips, demo_models, django_capture_on_commit_callbacks):
    prompt = make_clips(prompts=1)[0]
    a, b = demo_models[0].slug, demo_models[1].slug
    with django_capture_on_commit_callbacks() as sent:
        first = client.post(f"/p/{prompt.public_id}/compare/export", {"models": [a, b]})
    assert first.status_code == 202 and len(sent) == 1
    export = SideBySideExport.objects.get()
    assert 'hx-trigger="every 1s"' in first.content.decode()
    with django_capture_on_commit_callbacks() as sent_again:
        again = client.post(f"/p/{prompt.public_id}/compare/export", {"models": [b, a]})  # same clips
    assert again.status_code == 202 and not sent_again and SideBySideExport.objects.count() == 1
    # Finished: the status stops htmx polling and links the download.
    SideBySideExport.objects.filter(pk=export.pk).update(state=ExportState.SUCCEEDED, width=2, height=2, bytes=1)
    status = client.get(f"/exports/{export.public_id}", HTTP_HX_REQUEST="true")
    assert status.status_code == 286 and f"/exports/{export.public_id}/download" in status.content.decode()


def test_export_request_errors(client, make_clips):
    prompt = make_clips(prompts=1)[0]
    response = client.post(f"/p/{prompt.public_id}/compare/export", {"models": ["demo-aurora"]})
    assert response.status_code == 400 and 'data-error-code="selection_size"' in response.content.decode()
    assert client.post("/p/nope/compare/export", {"models": ["demo-aurora"]}).status_code == 404
    assert client.get(f"/p/{prompt.public_id}/compare/export").status_code == 405
    assert not SideBySideExport.objects.exists()


def test_download_of_unfinished_or_unknown_export_is_404(client, make_clips, demo_models):
    prompt = make_clips(prompts=1)[0]
    client.post(f"/p/{prompt.public_id}/compare/export", {"models": [m.slug for m in demo_models]})
    export = SideBySideExport.objects.get()
    assert client.get(f"/exports/{export.public_id}/download").status_code == 404
    assert client.get("/exports/nope/download").status_code == 404


def test_model_page_facts_and_clips(client, make_clips, demo_models):
    prompts = make_clips(prompts=3)
    model = demo_models[0]
    GenerationJob.objects.create(
        prompt=Prompt.objects.create(text="refused", seed=1, duration_s=2, aspect_ratio="16:9"),
        model=model,
        state=JobState.REJECTED_BY_VENDOR,
        finished_at=timezone.now(),
    )
    RatingSnapshot.objects.create(
        pool="official",
        votes_counted=30,
        bootstrap_rounds=10,
        compute_seconds=0.1,
        rows=[{"model": model.slug, "score": 1042.5, "lower": 1001.0, "upper": 1080.2, "rank_ub": 1, "votes": 30}],
    )
    response = client.get(f"/models/{model.slug}")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-fact="clips">3<' in html and "160x90" in html and "24 fps" in html
    assert "0%" in html and "25%" in html  # no failures, 1 of 4 finished jobs refused
    assert "1042.5" in html and "data-feature-claims" in html
    assert all(f"/p/{p.public_id}" in html for p in prompts)
    assert client.get("/models/nope").status_code == 404
    assert f"/models/{model.slug}" in client.get("/models").content.decode()


def test_the_home_page_says_what_screentest_is_and_offers_vote_browse_submit(client, make_clips):
    make_clips(prompts=2)
    page = client.get("/").content.decode()
    assert "Screentest sends one prompt to several text-to-video models" in page
    for name, href in (("Vote", "/arena"), ("Browse", "#gallery"), ("Submit", "/new")):
        assert f'href="{href}">{name}</a>' in page
    assert "Report this prompt" not in page  # reporting stays on the prompt's own page
    assert "0 minutes ago" not in page and "just now" in page
    assert "Report this prompt" in client.get(f"/p/{Prompt.objects.first().public_id}").content.decode()


def test_gallery_details_a_newcomer_stumbles_on(client, make_clips, demo_models):
    """Issue 14 item 7: a filter error shows no unfiltered count, a page past the end says so,
    the model filter leaves out disabled models without clips, a hidden clip's card says so."""
    from webapp.catalog.models import VideoModel
    from webapp.catalog.services import load_catalog

    load_catalog()
    prompts = make_clips(prompts=13)
    bad = client.get("/", {"since": "2024-05-02", "until": "2024-05-01"}).content.decode()
    assert "13 prompts" not in bad and "data-no-results" in bad and "data-filter-errors" in bad
    last = client.get("/", {"page": "99"}).content.decode()
    assert "There is no page 99: showing page 2 of 2." in last
    assert "There is no page" not in client.get("/", {"page": "2"}).content.decode()
    choices = client.get("/").content.decode().split('name="model"', 1)[1].split("</select>", 1)[0]
    assert "Aurora" in choices
    assert not VideoModel.objects.get(slug="runway-gen4-5").enabled and "runway-gen4-5" not in choices
    clip = Clip.objects.filter(job__prompt=prompts[0]).first()
    Clip.objects.filter(pk=clip.pk).update(hidden=True)
    card = client.get(f"/p/{prompts[0].public_id}").content.decode()
    state = card.split(f'id="job-{clip.job_id}"', 1)[1].split("</header>", 1)[0]
    assert "Hidden" in state and "Succeeded" not in state


def test_demo_models_describe_the_frame_size_they_deliver():
    """Every demo clip has the same frame size: a demo rendered smaller is upscaled, and says so."""
    import json

    from webapp.catalog.services import DEFAULT_CATALOG

    for entry in json.loads(DEFAULT_CATALOG.read_text())["models"]:
        if entry.get("is_procedural_demo") and entry["backend_params"].get("render_scale", 1) < 1:
            assert "upscaled to the same frame size" in entry["description"], entry["slug"]


def test_gallery_posters_say_why_a_model_has_none(client, make_clips, demo_models):
    """The poster strip (the studio `posters` filter): a poster per finished clip, a placeholder
    naming the state otherwise, and a hidden clip's poster never shown."""
    prompt = make_clips(prompts=1)[0]
    first, second, *_ = GenerationJob.objects.filter(prompt=prompt).order_by("model__display_name")
    Clip.objects.filter(job=first).update(hidden=True)
    GenerationJob.objects.filter(pk=second.pk).update(state=JobState.FAILED)
    shown = Clip.objects.filter(job__prompt=prompt, hidden=False).exclude(job=second)
    html = client.get("/").content.decode()
    strip = html.split('<div class="posters">', 1)[1].split("</div>", 1)[0]
    assert strip.count('<span class="poster-placeholder state-hidden">Hidden by moderators</span>') == 1
    assert strip.count(f'<span class="poster-placeholder state-failed">{JobState.FAILED.label}</span>') == 1
    assert strip.count("<img ") == shown.count() == len(demo_models) - 2
    assert Clip.objects.get(job=first).poster.name not in strip
    for clip in shown:
        assert f'<img src="/media/{clip.poster.name}" alt="" loading="lazy">' in strip
