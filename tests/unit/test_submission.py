import pytest

from tests.conftest import record_sent
from webapp.studio.models import GenerationJob, Prompt
from webapp.studio.services.submission import PromptInput, SubmissionError, submit_prompt

pytestmark = pytest.mark.django_db


def submit(**kwargs):
    kwargs.setdefault("text", "a red fox in the snow")
    return submit_prompt(PromptInput(**kwargs))


def test_all_enabled_models_by_default_and_jobs_enqueued_on_commit(
    demo_models, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    record_sent(monkeypatch, lambda name, args, countdown: sent.append((name, args)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        prompt = submit(seed=5)
    jobs = list(prompt.jobs.order_by("model__slug"))
    assert [j.model.slug for j in jobs] == ["demo-aurora", "demo-lumen", "demo-pixel"]
    assert {j.state for j in jobs} == {"queued"}
    assert sent == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()
    assert sorted(sent) == sorted(("studio.generate", [j.pk]) for j in jobs)
    assert all(j.enqueued_at for j in GenerationJob.objects.all())


def test_chosen_models_deduplicated_and_settings_kept(demo_models):
    prompt = submit(
        models=["demo-pixel", "demo-pixel"], duration_s=3, aspect_ratio="9:16", seed=7, negative_prompt="  blurry   "
    )
    assert [j.model.slug for j in prompt.jobs.all()] == ["demo-pixel"]
    assert (prompt.duration_s, prompt.aspect_ratio, prompt.seed, prompt.negative_prompt) == (3.0, "9:16", 7, "blurry")


def test_whitespace_is_collapsed_and_a_random_seed_chosen(demo_models):
    prompt = submit(text="  a   cat\n\non a   roof ")
    assert prompt.text == "a cat on a roof"
    assert 0 <= prompt.seed < 2**31


@pytest.mark.parametrize(
    "kwargs, code, field",
    [
        ({"text": ""}, "prompt_empty", "prompt"),
        ({"text": "   \n\t "}, "prompt_empty", "prompt"),
        ({"text": None}, "prompt_empty", "prompt"),
        ({"text": 42}, "invalid_type", "prompt"),
        ({"text": "x" * 1001}, "prompt_too_long", "prompt"),
        ({"text": "nul \x00 byte"}, "invalid_characters", "prompt"),
        ({"models": ["no-such-model"]}, "unknown_model", "models"),
        ({"models": []}, "no_models", "models"),
        ({"models": "demo-aurora"}, "invalid_type", "models"),
        ({"models": [1, 2]}, "invalid_type", "models"),
        ({"duration_s": 0}, "duration_out_of_range", "duration_s"),
        ({"duration_s": 13}, "duration_out_of_range", "duration_s"),
        ({"duration_s": "four"}, "invalid_type", "duration_s"),
        ({"duration_s": float("nan")}, "invalid_type", "duration_s"),
        ({"duration_s": True}, "invalid_type", "duration_s"),
        ({"aspect_ratio": "4:3"}, "unsupported_aspect_ratio", "aspect_ratio"),
        ({"seed": -1}, "invalid_seed", "seed"),
        ({"seed": 2**40}, "invalid_seed", "seed"),
        ({"seed": 1.5}, "invalid_type", "seed"),
        ({"negative_prompt": "y" * 1001}, "too_long", "negative_prompt"),
    ],
)
def test_bad_input_is_refused_with_a_code_and_writes_nothing(demo_models, kwargs, code, field):
    with pytest.raises(SubmissionError) as info:
        submit(**kwargs)
    assert (info.value.code, info.value.field) == (code, field)
    assert info.value.message
    assert Prompt.objects.count() == 0 and GenerationJob.objects.count() == 0


def test_disabled_model_is_refused(demo_models):
    demo_models[0].enabled = False
    demo_models[0].save()
    with pytest.raises(SubmissionError) as info:
        submit(models=[demo_models[0].slug])
    assert info.value.code == "model_disabled"
    prompt = submit()
    assert demo_models[0].slug not in {j.model.slug for j in prompt.jobs.all()}


def test_no_enabled_models_at_all(db):
    with pytest.raises(SubmissionError) as info:
        submit()
    assert info.value.code == "no_models"


def test_model_aspect_ratio_limits(demo_models):
    demo_models[0].supported_aspect_ratios = ["16:9"]
    demo_models[0].save()
    with pytest.raises(SubmissionError) as info:
        submit(aspect_ratio="1:1")
    assert info.value.code == "unsupported_aspect_ratio" and demo_models[0].slug in info.value.message
