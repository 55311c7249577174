import os

import pytest

from tests.stack_free import is_stack_free

# scripts/test.sh runs the suite on one of two stacks and says which in SCREENTEST_TEST_STACK:
# "postgresql" (PostgreSQL + Redis, the default) or "embedded" (what scripts/up.sh runs: SQLite,
# Celery over kombu's filesystem transport, the file cache, all under a DATA_DIR of the run's own).
EMBEDDED = "embedded"

# Markers for tests of a feature only one stack has; the reason names the feature.
# @pytest.mark.postgresql(reason="COPY ...") / @pytest.mark.redis(reason="...")
STACK_ONLY_MARKERS = {"postgresql": "PostgreSQL", "redis": "Redis"}
STACK_FREE_COUNT = pytest.StashKey[int]()


def declared_stack() -> str:
    return os.environ.get("SCREENTEST_TEST_STACK", "")


def has_feature(marker: str) -> bool:
    from django.conf import settings

    if marker == "postgresql":
        return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    return bool(settings.REDIS_URL)


def _reason(mark) -> str:
    return mark.kwargs.get("reason") or " ".join(map(str, mark.args))


def _stack_only(item):
    """(service, reason) of each stack-only marker on the item whose service this run lacks."""
    for marker, service in STACK_ONLY_MARKERS.items():
        mark = item.get_closest_marker(marker)
        if mark is not None and not has_feature(marker):
            yield service, _reason(mark)


def pytest_collection_modifyitems(config, items):
    """On the embedded stack a PostgreSQL- or Redis-only test is skipped, with its reason, and a
    stack-free one (tests/stack_free.py) is deselected: the PostgreSQL run gives its result."""
    if declared_stack() == EMBEDDED and os.environ.get("SCREENTEST_STACK_FREE_TESTS") != "run":
        stack_free = [item for item in items if is_stack_free(item)]
        if stack_free:
            config.hook.pytest_deselected(items=stack_free)
            items[:] = [item for item in items if not is_stack_free(item)]
            config.stash[STACK_FREE_COUNT] = len(stack_free)
    for item in items:
        for marker in STACK_ONLY_MARKERS:
            mark = item.get_closest_marker(marker)
            if mark is not None and not _reason(mark):
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{marker} needs a reason naming the feature")
        if declared_stack() == EMBEDDED:
            for service, reason in _stack_only(item):
                item.add_marker(pytest.mark.skip(reason=f"{service} only: {reason}"))


def pytest_terminal_summary(terminalreporter, config):
    count = config.stash.get(STACK_FREE_COUNT, 0)
    if count:
        terminalreporter.write_line(
            f"{count} stack-free tests (Django-free code, no database: tests/stack_free.py) were deselected "
            "on the embedded stack; the PostgreSQL run runs them (SCREENTEST_STACK_FREE_TESTS=run runs them here)"
        )


def pytest_runtest_setup(item):
    """Anywhere else a missing service is a failure, as it always was."""
    for service, reason in _stack_only(item):
        pytest.fail(f"needs {service} ({reason}): run scripts/test.sh")


def pytest_configure(config):
    """Tests serve static files straight from the source folders: no collectstatic, no manifest."""
    if not config.pluginmanager.has_plugin("django"):
        return
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.STATIC_ROOT = None


@pytest.fixture
def media_root(settings, tmp_path):
    """Every test that stores files gets a media root and scratch dir of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WORK_DIR = tmp_path / "work"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def demo_models(db):
    from webapp.catalog.models import VideoModel
    from webapp.catalog.services import load_catalog

    load_catalog()
    return list(VideoModel.objects.filter(backend_key="demo").order_by("slug"))


def stored_files(root) -> list[str]:
    """Relative paths of every file under a media root."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="session")
def tiny_mp4(tmp_path_factory):
    """A real 2 s H.264 clip, made once, copied wherever a test needs a stored rendition."""
    import subprocess

    path = tmp_path_factory.mktemp("tiny") / "tiny.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x90:rate=24:duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path


@pytest.fixture
def make_clips(media_root, demo_models, tiny_mp4):
    """make_clips(prompts=2, pool="official", category="animals") -> prompts whose every demo
    model has a finished clip (rows plus a real file under a random name)."""
    import secrets
    import shutil

    from django.utils import timezone

    from webapp.studio.models import Clip, GenerationJob, JobState, Prompt

    def make(prompts=2, pool=Prompt.Pool.OFFICIAL, category="animals", models=None):
        made = []
        for n in range(prompts):
            prompt = Prompt.objects.create(
                text=f"a red fox number {n}", seed=n, duration_s=2, aspect_ratio="16:9", pool=pool, category=category
            )
            for model in models or demo_models:
                job = GenerationJob.objects.create(
                    prompt=prompt, model=model, state=JobState.SUCCEEDED, attempts=1, finished_at=timezone.now()
                )
                name = f"clips/{secrets.token_urlsafe(18)}.mp4"
                (media_root / "clips").mkdir(exist_ok=True)
                shutil.copy(tiny_mp4, media_root / name)
                Clip.objects.create(
                    job=job,
                    original=name,
                    web=name,
                    poster=f"posters/{secrets.token_urlsafe(18)}.jpg",
                    sha256_original="0" * 64,
                    sha256_web="0" * 64,
                    duration_s=2.0,
                    width=160,
                    height=90,
                    fps=24,
                    codec="h264",
                    bytes=(media_root / name).stat().st_size,
                    original_bytes=1,
                )
            made.append(prompt)
        return made

    return make


def clear_test_cache():
    """Empty this test run's cache keys only. Django's RedisCache.clear() is FLUSHDB, which would
    also wipe anything else in that Redis database (other runs' caches, a broker sharing it)."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]  # not django.core.cache.cache: that proxy is never a RedisCache
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        prefix = cache.make_key("")[: -len(":")] if cache.key_prefix else ""
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000)) if prefix else []
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    return cache


@pytest.fixture(autouse=True)
def fresh_cache():
    """Every test starts with an empty cache (rate-limit counters, throttles, sessions)."""
    return clear_test_cache()


def record_sent(monkeypatch, record):
    """Route every Celery message the code sends to `record(task_name, args, countdown)`
    instead of a broker (webapp/core/tasks.py's `send` is the one place that sends)."""
    from webapp.core import tasks as core_tasks

    monkeypatch.setattr(
        core_tasks, "send", lambda task, *args, countdown=None: record(task.name, list(args) or None, countdown)
    )


@pytest.fixture(autouse=True)
def small_arena(settings):
    """Battle renditions in a small shape and an entry check of a few bits, so tests that
    render and vote stay fast (the shape's rules are the same at any size)."""
    settings.ARENA_CANVAS_SHORT_SIDE = 72
    settings.ARENA_FPS = 12
    settings.ARENA_POW_BITS = 6
