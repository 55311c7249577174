#!/usr/bin/env bash
# One command: set everything up and run Screentest on embedded defaults (SQLite, Celery over
# kombu's filesystem transport, media on disk, offline demo models) at http://127.0.0.1:8000.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export DATA_DIR="${DATA_DIR:-$ROOT/var}"
mkdir -p "$DATA_DIR/logs"

# The site secret: made once, random, kept in $DATA_DIR/secret_key (readable by this user only);
# every process refuses to start on the public development key. SECRET_KEY / SECRET_KEY_FILE
# set by you win.
if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
    if [ ! -s "$DATA_DIR/secret_key" ]; then
        (umask 077 && python -c "import secrets; print(secrets.token_urlsafe(50))" >"$DATA_DIR/secret_key.new")
        mv "$DATA_DIR/secret_key.new" "$DATA_DIR/secret_key"
        say "made a new SECRET_KEY in $DATA_DIR/secret_key"
    fi
    chmod 600 "$DATA_DIR/secret_key"
    export SECRET_KEY_FILE="$DATA_DIR/secret_key"
fi

say "preparing the database and demo content"
python manage.py migrate --noinput >/dev/null
python manage.py collectstatic --noinput >/dev/null
python manage.py check
python - <<'PY'
import os, secrets
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
User = get_user_model()
if not User.objects.filter(is_superuser=True).exists():
    password = secrets.token_urlsafe(12)
    User.objects.create_superuser("admin", "admin@localhost", password)
    path = settings.DATA_DIR / "admin-password.txt"
    path.write_text(password + "\n")
    path.chmod(0o600)
    print(f"==> created superuser 'admin'; its password is in {path}")
PY
python manage.py seed_demo

say "starting the Celery worker (queues generate, media, arena, default; beat embedded) -> $DATA_DIR/logs/worker.log"
celery -A workers.celery worker -B -Q generate,media,arena,default -c 2 -n "screentest@%h" \
    --loglevel INFO --schedule "$DATA_DIR/celerybeat-schedule" >>"$DATA_DIR/logs/worker.log" 2>&1 &
WORKER_PID=$!
gunicorn webapp.wsgi:application --bind "$HOST:$PORT" --workers 2 --threads 4 \
    --access-logfile - --error-logfile - --log-level warning &
WEB_PID=$!
# Both run in the background so a signal to this script stops both at once (bash defers traps
# while a foreground child runs).
# Celery's embedded beat can hang a warm shutdown, so the worker gets 15 s, then SIGKILL (its
# jobs are safe: leases in the database, recovered when it starts again under the same name).
stop() {
    trap - EXIT INT TERM
    kill -TERM "$WEB_PID" "$WORKER_PID" 2>/dev/null || true
    for _ in $(seq 1 15); do
        kill -0 "$WEB_PID" 2>/dev/null || kill -0 "$WORKER_PID" 2>/dev/null || break
        sleep 1
    done
    kill -KILL "$WEB_PID" "$WORKER_PID" 2>/dev/null || true
    pkill -KILL -P "$WORKER_PID" 2>/dev/null || true
}
trap stop EXIT INT TERM

say "Screentest is running at http://$HOST:$PORT  (admin: http://$HOST:$PORT/admin/, Ctrl+C stops)"
wait -n "$WEB_PID" "$WORKER_PID"
