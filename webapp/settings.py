"""Screentest settings: one file, every knob read from the environment with an embedded default.

With no environment at all the site runs on SQLite, Celery over kombu's filesystem transport,
media on local disk and the offline demo backends. `DATABASE_URL` switches to PostgreSQL,
`REDIS_URL` to the Redis broker and cache. `.env.example` documents every variable.

Over ~400 lines on purpose: Django reads one settings module, and every knob sits beside the
environment variable and default that set it (README's configuration table follows its order).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_number(name: str, default: float, cast=int):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """Docker-secrets style: NAME_FILE points at a file holding the value."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


DATA_DIR = Path(env("DATA_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# The public development default. With DEBUG off, every process refuses to start on it or on a
# weak key (webapp/core/secret_key.py, checked where gunicorn, Celery and manage.py start).
SECRET_KEY = env_secret("SECRET_KEY", "dev-only-insecure-key-change-me")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "webapp.catalog",
    "webapp.studio",
    "webapp.arena",
    "webapp.moderation",
    "webapp.gallery",
]

MIDDLEWARE = [
    # Outermost: nothing under /api/ answers HTML, whichever layer below made the response.
    "webapp.core.middleware.ApiJsonOnlyMiddleware",
    "webapp.core.middleware.ControlCharactersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "webapp.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: SQLite unless DATABASE_URL is set --------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_number("DB_CONN_MAX_AGE", 60))}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        if env_bool("DB_PREPARED_STATEMENTS", True):
            # Server-side binding lets psycopg prepare statements run often (the vote path's
            # join is then planned once per connection, not per request). Turn off behind
            # PgBouncer in transaction pooling mode, which cannot keep prepared statements.
            DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "screentest.sqlite3")}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The same options whether the file is the embedded default or a sqlite:/// DATABASE_URL
    # (the test suite's worker and web processes open the test database that way).
    DATABASES["default"]["CONN_MAX_AGE"] = env_number("DB_CONN_MAX_AGE", 0)
    DATABASES["default"]["OPTIONS"] = {
        # The web process and the worker write concurrently: wait instead of failing.
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
    # A file, not pytest-django's in-memory default: the Celery worker and gunicorn processes
    # the integration tests start must open the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker: Redis when REDIS_URL is set ------------------------------------------
REDIS_URL = env("REDIS_URL")


def _next_redis_db(url: str) -> str:
    """The broker's Redis URL with the database number plus one: the cache must not share a
    database with the broker, because clearing a Redis cache is FLUSHDB."""
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{db + 1}"))


# Past MAX_ENTRIES files (Django's default: 300) the file cache deletes a third of them at
# random, rate-limit counters included, which quietly loosened every limit on the embedded
# stack. Entries expire when read; the counters' keys change with each window.
FILE_CACHE_OPTIONS = {"MAX_ENTRIES": 100_000}

CACHES: dict[str, dict[str, object]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "webapp.core.redis_cache.RedisCache",
            "LOCATION": env("CACHE_URL") or _next_redis_db(REDIS_URL),
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "screentest"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": FILE_CACHE_OPTIONS,
        }
    }

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(DATA_DIR / "staticfiles")))
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES: dict[str, dict] = {
    "default": {"BACKEND": env("MEDIA_STORAGE_BACKEND", "webapp.core.storage.AtomicFileSystemStorage")},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage":
    STORAGES["default"]["OPTIONS"] = {
        "bucket_name": env("S3_BUCKET"),
        "endpoint_url": env("S3_ENDPOINT_URL") or None,
        "region_name": env("S3_REGION") or None,
        "access_key": env_secret("S3_ACCESS_KEY_ID"),
        "secret_key": env_secret("S3_SECRET_ACCESS_KEY"),
        "querystring_expire": 3600,
        "file_overwrite": False,
    }
# Behind nginx, the media view authorises and answers with X-Accel-Redirect to this internal
# location; nginx then serves the bytes with native Range support.
MEDIA_ACCEL_REDIRECT_PREFIX = env("MEDIA_ACCEL_REDIRECT_PREFIX", "")
# With S3 storage the web streams the asked-for byte range from the bucket; true sends named
# files' clients to the bucket's signed URL instead (battle files are always streamed: the
# bucket's headers would tell a voter when a file was stored).
MEDIA_S3_REDIRECT = env_bool("MEDIA_S3_REDIRECT", False)
# Scratch space for downloads and ffmpeg output before they reach storage.
WORK_DIR = Path(env("WORK_DIR", str(DATA_DIR / "work")))
# Scratch space is per process (WORK_DIR/<host>-<pid>); a dead process's is removed when its pid
# is gone, and any directory of another host (or older layout) once it is older than this.
SCRATCH_MAX_AGE_S = env_number("SCRATCH_MAX_AGE_S", 24 * 3600)

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
_broker_dir = DATA_DIR / "broker"
JOB_TIME_LIMIT_S = env_number("JOB_TIME_LIMIT_S", 900)
JOB_SOFT_TIME_LIMIT_S = env_number("JOB_SOFT_TIME_LIMIT_S", JOB_TIME_LIMIT_S - 30)
# A worker renews its claim every JOB_HEARTBEAT_S while it works; a dead worker's claim runs out
# within JOB_LEASE_S and beat's reaper (every REAPER_INTERVAL_S) sends the work again: a dead
# worker's job is running again within about JOB_LEASE_S + REAPER_INTERVAL_S (90 s).
JOB_LEASE_S = env_number("JOB_LEASE_S", 60)
JOB_HEARTBEAT_S = env_number("JOB_HEARTBEAT_S", JOB_LEASE_S / 4, float)
if not 0 < JOB_HEARTBEAT_S <= JOB_LEASE_S / 2:
    raise ImproperlyConfigured("need 0 < JOB_HEARTBEAT_S <= JOB_LEASE_S / 2 (a lease survives a missed heartbeat)")
CELERY_VISIBILITY_TIMEOUT_S = env_number("CELERY_VISIBILITY_TIMEOUT_S", 2 * 3600)
if not JOB_SOFT_TIME_LIMIT_S < JOB_TIME_LIMIT_S < CELERY_VISIBILITY_TIMEOUT_S:
    raise ImproperlyConfigured("need JOB_SOFT_TIME_LIMIT_S < JOB_TIME_LIMIT_S < CELERY_VISIBILITY_TIMEOUT_S")
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # Exchange tables; kombu's default is "control" in the current directory, which put them
        # in the checkout, shared by every arena and test run started from it.
        "control_folder": str(_broker_dir / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S}
    if env("BROKER_KEY_PREFIX"):  # lets several arenas (or test runs) share one Redis
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env("BROKER_KEY_PREFIX")
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True  # job state lives in the database
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False  # the reaper recovers; redelivery loops do not
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TIME_LIMIT = JOB_TIME_LIMIT_S
CELERY_TASK_SOFT_TIME_LIMIT = JOB_SOFT_TIME_LIMIT_S
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_number("CELERY_WORKER_MAX_TASKS_PER_CHILD", 50)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Each task names its queue where it is defined (webapp/<app>/services: TaskRoute constants);
# periodic ones run on the default queue.
CELERY_TASK_DEFAULT_QUEUE = "default"
REAPER_INTERVAL_S = env_number("REAPER_INTERVAL_S", 30, float)
RATINGS_INTERVAL_S = env_number("RATINGS_INTERVAL_S", 300, float)
# Beat sends a bounded batch of clips measured by an older version (or never) this often.
MEASURE_RECOMPUTE_INTERVAL_S = env_number("MEASURE_RECOMPUTE_INTERVAL_S", 300, float)
# Optional CLIP text-video alignment (docs/metrics.md): a directory holding a CLIP model and its
# tokenizer saved with save_pretrained, read on media workers that have the `local` extra;
# empty = not measured. Never fetched from a hub.
CLIP_MODEL_PATH = env("CLIP_MODEL_PATH")
# Task names: webapp/studio/services/queue.py REAP_STALE_JOBS, webapp/arena/services/refresh.py
# REFRESH_BOARDS (tests/unit/test_tasks.py checks they are registered).
CELERY_BEAT_SCHEDULE = {
    "reap-stale-jobs": {"task": "studio.reap_stale_jobs", "schedule": REAPER_INTERVAL_S},
    # Clips never measured (a lost message) or measured by an older version (docs/metrics.md).
    "remeasure-clips": {"task": "studio.remeasure_clips", "schedule": MEASURE_RECOMPUTE_INTERVAL_S},
    "refresh-boards": {"task": "arena.refresh_boards", "schedule": RATINGS_INTERVAL_S},
    "tidy-battles": {"task": "arena.tidy_battles", "schedule": REAPER_INTERVAL_S},
    "clear-expired-sessions": {"task": "arena.clear_expired_sessions", "schedule": 3600},
    "reap-stale-exports": {"task": "gallery.reap_stale_exports", "schedule": REAPER_INTERVAL_S},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# Tests and one-process demos can run tasks inline; production never should.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- Generation rules -----------------------------------------------------------------------
PROMPT_MAX_CHARS = env_number("PROMPT_MAX_CHARS", 1000)
JOB_MAX_ATTEMPTS = env_number("JOB_MAX_ATTEMPTS", 3)
# A vendor's 429 (or Kling's rate/concurrency codes) sends the job back to the queue for as long
# as the vendor's Retry-After says (else VENDOR_RATE_LIMIT_WAIT_S) without using an attempt,
# until this long after the job first started; after that each 429 counts as a failed attempt.
VENDOR_RATE_LIMIT_WAIT_S = env_number("VENDOR_RATE_LIMIT_WAIT_S", 10, float)
VENDOR_RATE_LIMIT_MAX_WAIT_S = env_number("VENDOR_RATE_LIMIT_MAX_WAIT_S", 1800, float)
# A queued job untouched this long lost its message: the reaper enqueues it again.
JOB_QUEUED_STALE_S = env_number("JOB_QUEUED_STALE_S", 300)
FFMPEG_BINARY = env("FFMPEG_BINARY", "ffmpeg")
FFPROBE_BINARY = env("FFPROBE_BINARY", "ffprobe")
# Each ffprobe call, and each ffmpeg transcode, is killed after this long (ffmpeg_timeout).
MEDIA_PROBE_TIMEOUT_S = env_number("MEDIA_PROBE_TIMEOUT_S", 20, float)
MEDIA_TRANSCODE_TIMEOUT_S = env_number("MEDIA_TRANSCODE_TIMEOUT_S", 300, float)
MEDIA_MAX_BYTES = env_number("MEDIA_MAX_BYTES", 500 * 1024 * 1024)
MEDIA_MAX_DURATION_S = env_number("MEDIA_MAX_DURATION_S", 120.0, float)
MEDIA_MAX_SIDE = env_number("MEDIA_MAX_SIDE", 4096)
RENDITION_MAX_HEIGHT = env_number("RENDITION_MAX_HEIGHT", 1080)
# Blind renditions are padded to a multiple of this many bytes so a file's size does not
# betray its model (0 turns padding off).
BLIND_SIZE_BUCKET_BYTES = env_number("BLIND_SIZE_BUCKET_BYTES", 512 * 1024)

# --- Spend budget (webapp/studio/services/budget.py; staff and moderators are exempt) ---------
# Prompts an IP address and a browser session may submit per hour (429 past it; 0 turns it off).
SUBMIT_RATE_PER_IP_PER_HOUR = env_number("SUBMIT_RATE_PER_IP_PER_HOUR", 30)
SUBMIT_RATE_PER_SESSION_PER_HOUR = env_number("SUBMIT_RATE_PER_SESSION_PER_HOUR", 10)
# Estimated USD the site may spend per day (TIME_ZONE's day): a prompt that would go over it is
# refused. 0 allows only free models (the demo ones); a negative value removes the cap.
DAILY_SPEND_CAP_USD = env_number("DAILY_SPEND_CAP_USD", 20.0, float)
# A model without a catalog price counts at this many USD a second; 0 or less refuses such
# models while a cap is set, so the cap cannot be bypassed through them.
SPEND_UNPRICED_PER_SECOND_USD = env_number("SPEND_UNPRICED_PER_SECOND_USD", 0.50, float)
# Jobs waiting or working across the site (queued, held, running, processing); 0 turns it off.
MAX_QUEUED_JOBS = env_number("MAX_QUEUED_JOBS", 200)
# The same prompt again within this many seconds returns the earlier one (0 turns it off).
DUPLICATE_PROMPT_WINDOW_S = env_number("DUPLICATE_PROMPT_WINDOW_S", 600)

# --- Arena -----------------------------------------------------------------------------------
# Votes a voter (session) and an IP may cast per minute before getting a 429.
VOTE_RATE_PER_MINUTE = env_number("VOTE_RATE_PER_MINUTE", 20)
VOTE_RATE_PER_IP_PER_MINUTE = env_number("VOTE_RATE_PER_IP_PER_MINUTE", 120)
# How long a served battle can still be voted on.
BATTLE_MAX_AGE_S = env_number("BATTLE_MAX_AGE_S", 6 * 3600)
# Who may vote, and how much one address can weigh (docs/arena.md, "Votes that count"):
# a new voter pays about a second of browser CPU (proof of work, this many leading zero bits of
# SHA-256); an address mints at most so many voters and battles an hour, and at most so many
# of its votes an hour count. ARENA_REQUIRE_LOGIN counts only logged-in voters on the
# official board.
ARENA_POW_BITS = env_number("ARENA_POW_BITS", 20)
ARENA_POW_TTL_S = env_number("ARENA_POW_TTL_S", 600)
ARENA_NEW_VOTERS_PER_IP_PER_HOUR = env_number("ARENA_NEW_VOTERS_PER_IP_PER_HOUR", 10)
ARENA_BATTLES_PER_IP_PER_HOUR = env_number("ARENA_BATTLES_PER_IP_PER_HOUR", 240)
ARENA_COUNTED_VOTES_PER_IP_PER_HOUR = env_number("ARENA_COUNTED_VOTES_PER_IP_PER_HOUR", 120)
ARENA_REQUIRE_LOGIN = env_bool("ARENA_REQUIRE_LOGIN", False)
# A vote counts once its clips could have been watched through: the time from the later of the
# two first media fetches to the vote must reach the clips' duration, less this tolerance.
ARENA_WATCH_TOLERANCE_S = env_number("ARENA_WATCH_TOLERANCE_S", 0.5, float)
# The battle renditions' shape (webapp/arena/services/renditions.py): canvas short side, frame
# rate, video bits per pixel per frame (constant rate), audio bitrate and loudness (EBU R128).
ARENA_CANVAS_SHORT_SIDE = env_number("ARENA_CANVAS_SHORT_SIDE", 540)
ARENA_FPS = env_number("ARENA_FPS", 30)
ARENA_BITS_PER_PIXEL = env_number("ARENA_BITS_PER_PIXEL", 0.26, float)
ARENA_AUDIO_BITRATE = env_number("ARENA_AUDIO_BITRATE", 96000)
ARENA_LOUDNESS_LUFS = env_number("ARENA_LOUDNESS_LUFS", -23.0, float)
ARENA_TRUE_PEAK_DBTP = env_number("ARENA_TRUE_PEAK_DBTP", -1.0, float)
# A model is listed once it has this many counted votes, marked preliminary below the second.
LEADERBOARD_MIN_VOTES = env_number("LEADERBOARD_MIN_VOTES", 10)
LEADERBOARD_PRELIMINARY_BELOW = env_number("LEADERBOARD_PRELIMINARY_BELOW", 100)
RATING_BOOTSTRAP_ROUNDS = env_number("RATING_BOOTSTRAP_ROUNDS", 1000)
# Outlier voters (FastChat's e-value test, arena/services/outliers.py): a voter with at least
# OUTLIER_MIN_VOTES votes whose picks keep disagreeing with each pair's history is flagged at
# this significance level (0 turns the test off); their votes stay, excluded.
OUTLIER_ALPHA = env_number("OUTLIER_ALPHA", 0.05, float)
OUTLIER_MIN_VOTES = env_number("OUTLIER_MIN_VOTES", 5)
OUTLIER_MAX_VOTES = 100  # as FastChat: a voter is judged on their first 100 decisive votes
OUTLIER_MIN_PAIR_HISTORY = 20  # decisive votes a pair needs before a vote on it is judged
# Proxies (addresses or networks) whose X-Forwarded-For is believed: the client is the rightmost
# entry that is not one of them. Empty: the client is REMOTE_ADDR (no proxy in front).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")

# --- Misc -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# Sessions in the database, cached in Redis when there is one; a Redis outage only skips the cache.
SESSION_ENGINE = "webapp.core.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"
# What a 503 answered during an outage of the database or Redis says in Retry-After.
OUTAGE_RETRY_AFTER_S = env_number("OUTAGE_RETRY_AFTER_S", 30)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
# HTTPS only, for sites served over TLS (docs/deployment.md lists the production values):
# redirect http to https, and tell browsers to do so themselves for SECURE_HSTS_SECONDS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container healthchecks ask over plain http
SECURE_HSTS_SECONDS = env_number("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
CSRF_FAILURE_VIEW = "webapp.core.api.csrf_failure"  # JSON under /api/


def _content_security_policy() -> str:
    """Scripts, styles and everything else from this site only: no inline script, handler or
    style attribute anywhere. CSP_MEDIA_ORIGINS adds the origins media is served from when it
    is not this site (S3 presigned URLs)."""
    media = " ".join(["'self'", *env_list("CSP_MEDIA_ORIGINS", "")])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {media} data:",
            f"media-src {media}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = env("CONTENT_SECURITY_POLICY") or _content_security_policy()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Moderation ------------------------------------------------------------------------------
# Prompt classifiers, run in order at submission; the strictest outcome wins. Dotted paths to
# classes with a classify(text, negative_prompt) method (webapp/policy/screening.py).
MODERATION_CLASSIFIERS = env_list("MODERATION_CLASSIFIERS", "webapp.policy.screening.RulesClassifier")
# Login attempts allowed per (username, IP address) and per IP address within one fixed window
# before logins are refused until the window ends (webapp/moderation/login_throttle.py).
LOGIN_FAILURES_LIMIT = env_number("LOGIN_FAILURES_LIMIT", 5)
LOGIN_FAILURES_PER_IP_LIMIT = env_number("LOGIN_FAILURES_PER_IP_LIMIT", 30)
LOGIN_FAILURES_WINDOW_S = env_number("LOGIN_FAILURES_WINDOW_S", 900)
AUTHENTICATION_BACKENDS = ["webapp.moderation.login_throttle.ThrottledModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "moderation:queue"

# --- Gallery: side-by-side exports ------------------------------------------------------------
# Each clip's tile is this tall (the width follows the prompt's aspect ratio), at this frame rate.
EXPORT_TILE_HEIGHT = env_number("EXPORT_TILE_HEIGHT", 360)
EXPORT_FPS = env_number("EXPORT_FPS", 24.0, float)
# Height of the caption band under the tiles that carries the prompt.
EXPORT_CAPTION_HEIGHT = env_number("EXPORT_CAPTION_HEIGHT", 96)
# The TrueType font for model labels and the caption (Debian: fonts-dejavu-core).
EXPORT_FONT_FILE = env("EXPORT_FONT_FILE", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
