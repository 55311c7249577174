#!/usr/bin/env bash
# Entry point of every app container (web, workers, beat): when DATABASE_URL names PostgreSQL,
# wait until it accepts connections (at most DB_WAIT_TIMEOUT_S seconds, default 60; then fail),
# and exec the container's command, so that it receives the stop signal itself.
# Uses the app's own parser (dj-database-url) and driver (psycopg): no extra tools in the image.
set -euo pipefail

case "${DATABASE_URL:-}" in
    postgres://* | postgresql://* | pgsql://* | postgis://*)
        python - <<'PY'
import os
import sys
import time

import dj_database_url
import psycopg

db = dj_database_url.parse(os.environ["DATABASE_URL"])
params = {
    "host": db.get("HOST") or None,
    "port": db.get("PORT") or None,
    "user": db.get("USER") or None,
    "password": db.get("PASSWORD") or None,
    "dbname": db.get("NAME") or None,
}
for key in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
    if db.get("OPTIONS", {}).get(key):
        params[key] = db["OPTIONS"][key]
timeout = float(os.environ.get("DB_WAIT_TIMEOUT_S") or 60)
deadline = time.monotonic() + timeout
where = f"{params['host'] or 'localhost'}:{params['port'] or 5432}"
while True:
    try:
        psycopg.connect(connect_timeout=3, **{k: v for k, v in params.items() if v is not None}).close()
    except psycopg.OperationalError as exc:
        if time.monotonic() >= deadline:
            sys.exit(f"entrypoint: PostgreSQL at {where} still unreachable after {timeout:g}s: {exc}".strip())
        print(f"entrypoint: waiting for PostgreSQL at {where} ...", file=sys.stderr, flush=True)
        time.sleep(2)
    else:
        break
PY
        ;;
esac

exec "$@"
