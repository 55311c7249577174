"""A create request the vendor handled but whose answer was lost (the fake makes the job, then
closes the connection) is never paid for twice: each adapter either adopts the job the vendor
made (Kling by our external_task_id; Sora, Luma, Replicate from the account's list of recent
jobs) or, where the vendor offers no way to look (Runway, fal, Veo), stops with
`create_outcome_unknown` instead of creating again. Counted at the fake."""

from __future__ import annotations

import pytest

from tests.fakes.all_vendors import VENDORS
from tests.fakes.contract import generate, make_request, vendor_env  # noqa: F401
from tests.fakes.vendor_server import fake_mp4
from workers.backends.base import AnswerLost, CreateOutcomeUnknown, RetryableError
from workers.backends.registry import get_backend
from workers.backends.vendor import CREATE_SENT_PREFIX, create_sent_marker

ADOPTING = {"kling", "openai-sora", "luma", "replicate"}
NO_WAY_TO_LOOK = set(VENDORS) - ADOPTING


def creates(fake) -> int:
    """POSTs that made a job at the fake (Kling's are all creates; others POST only to create)."""
    return len([r for r in fake.recorded if r.method == "POST" and "cancel" not in r.path])


@pytest.fixture(params=sorted(VENDORS))
def vendor(request, vendor_env):
    return request.param, vendor_env.start(request.param)


def test_a_lost_create_answer_makes_exactly_one_vendor_job(vendor, tmp_path):
    key, fake = vendor
    fake.fail_next(200, lose_answer=True, method="POST")
    submitted: list[str] = []
    if key in ADOPTING:
        result, submitted = generate(key, make_request(key), tmp_path, markers=True)
        assert result.video_path.read_bytes() == fake_mp4()
        assert list(fake.jobs) == [result.vendor_job_id]  # the one job the lost create made
        # the marker went out before the create, the adopted job's id after it
        assert submitted[0].startswith(CREATE_SENT_PREFIX) and submitted[-1] == result.vendor_job_id
    else:
        with pytest.raises(CreateOutcomeUnknown) as caught:
            generate(key, make_request(key), tmp_path)
        assert caught.value.code == "create_outcome_unknown"
        assert "no way to find out" in str(caught.value) and "dashboard" in str(caught.value)
    assert len(fake.jobs) == 1 and creates(fake) == 1


def test_a_retry_after_a_create_that_got_no_answer_looks_before_creating(vendor, tmp_path):
    """The worker died (or the attempt ended) between sending the create and hearing back: the
    stored marker makes the next attempt look for the job instead of paying for another."""
    key, fake = vendor
    fake.fail_next(200, lose_answer=True, method="POST")
    fake.fail_next(200, lose_answer=True, method="GET")  # the first look is lost too: try later
    markers: list[str] = []
    with pytest.raises((RetryableError, CreateOutcomeUnknown)) as first:
        get_backend(key).generate(
            make_request(key), workdir=tmp_path, resume_vendor_job_id=None, on_submitted=markers.append
        )
    assert len(fake.jobs) == 1
    if key in NO_WAY_TO_LOOK:
        assert isinstance(first.value, CreateOutcomeUnknown)
        fake.faults.clear()
        with pytest.raises(CreateOutcomeUnknown):  # the next attempt does not create either
            generate(key, make_request(key), tmp_path, resume=markers[-1])
    else:
        assert isinstance(first.value, AnswerLost) and markers[-1].startswith(CREATE_SENT_PREFIX)
        result, submitted = generate(key, make_request(key), tmp_path, resume=markers[-1])
        assert list(fake.jobs) == [result.vendor_job_id] and submitted == [result.vendor_job_id]
    assert len(fake.jobs) == 1 and creates(fake) == 1


@pytest.mark.parametrize("key", sorted(ADOPTING))
def test_a_create_that_did_not_take_is_made_again(key, vendor_env, tmp_path):
    """The marker says a create went out, the vendor lists no such job: it never arrived, so a
    create is safe."""
    fake = vendor_env.start(key)
    result, submitted = generate(key, make_request(key), tmp_path, resume=create_sent_marker(1.0e9), markers=True)
    assert submitted[0] == "" and submitted[-1] == result.vendor_job_id
    assert list(fake.jobs) == [result.vendor_job_id] and creates(fake) == 1


@pytest.mark.parametrize("key", sorted(ADOPTING - {"kling"}))
def test_a_listed_job_for_another_request_is_not_adopted(key, vendor_env, tmp_path):
    fake = vendor_env.start(key)
    (tmp_path / "other").mkdir()
    other, _ = generate(key, make_request(key, "a different prompt entirely"), tmp_path / "other")
    result, _ = generate(key, make_request(key), tmp_path, resume=create_sent_marker(1.0e9))
    assert result.vendor_job_id != other.vendor_job_id and len(fake.jobs) == 2


@pytest.mark.parametrize("key", sorted(ADOPTING - {"kling"}))
def test_two_identical_candidates_are_not_guessed_between(key, vendor_env, tmp_path):
    fake = vendor_env.start(key)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        generate(key, make_request(key), tmp_path / name)
    with pytest.raises(CreateOutcomeUnknown, match="2 jobs match"):
        generate(key, make_request(key), tmp_path, resume=create_sent_marker(1.0e9))
    assert len(fake.jobs) == 2


@pytest.mark.parametrize("key", sorted(NO_WAY_TO_LOOK))
def test_an_operator_may_choose_to_create_again(key, vendor_env, tmp_path):
    fake = vendor_env.start(key)
    fake.fail_next(200, lose_answer=True, method="POST")
    with pytest.raises(AnswerLost):
        generate(key, make_request(key, lost_create_answer="recreate"), tmp_path)
    result, _ = generate(key, make_request(key, lost_create_answer="recreate"), tmp_path)
    assert len(fake.jobs) == 2  # paid twice, as the catalog entry allows


def test_a_lookup_the_host_refuses_stops_instead_of_creating_again(vendor_env, tmp_path):
    """An operator's Sora-compatible host without the list endpoint: the lookup's 404 is not
    read as "no job there" (that would re-create and maybe pay twice)."""
    fake = vendor_env.start("openai-sora")
    fake.fail_next(200, lose_answer=True, method="POST")
    fake.fail_next(404, {"error": {"message": "Not found"}}, method="GET", path=r"^/v1/videos$")
    with pytest.raises(CreateOutcomeUnknown, match="looking for the job it made failed"):
        generate("openai-sora", make_request("openai-sora"), tmp_path)
    assert len(fake.jobs) == 1 and creates(fake) == 1


def test_a_connection_refused_before_sending_is_an_ordinary_retry(vendor_env, tmp_path):
    fake = vendor_env.start("runway")
    fake.stop()  # nothing listens: the request never left, so a retry cannot pay twice
    markers: list[str] = []
    with pytest.raises(RetryableError) as caught:
        get_backend("runway").generate(
            make_request("runway"), workdir=tmp_path, resume_vendor_job_id=None, on_submitted=markers.append
        )
    assert caught.value.code == "vendor_unreachable" and not isinstance(caught.value, AnswerLost)
    assert markers[-1] == ""  # the marker is cleared: the next attempt simply creates
