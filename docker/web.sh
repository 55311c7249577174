#!/usr/bin/env bash
# The web container's command (docker-compose.yml): bring the schema and the video-model
# catalog up to date, refresh the static files nginx serves from the shared volume, then
# replace this shell with gunicorn. Extra arguments are passed on to gunicorn.
# Workers: WEB_CONCURRENCY (gunicorn reads it itself; default 1, compose sets 3).
set -euo pipefail

python manage.py migrate --noinput
# Creates missing models, updates the rest; keeps the enabled flags an admin has changed.
python manage.py load_catalog
# The static volume is mounted over the image's collected files and would otherwise keep those
# of the image that first created it: collect again (unchanged files are skipped).
python manage.py collectstatic --noinput --verbosity 0

exec gunicorn webapp.wsgi:application \
    --bind 0.0.0.0:8000 \
    --access-logfile - \
    --timeout 60 \
    --graceful-timeout 30 \
    "$@"
