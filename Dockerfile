# Screentest: one image for every app process (web, Celery workers, beat).
#   docker build -t screentest:local .
# The `worker-gpu` target adds torch (CUDA build), diffusers and transformers for the `gpu`
# queue's workers (docker-compose.yml, profile gpu); the default image stays without them.
# docker-compose.yml builds it and chooses the process with `command:`. The default command
# serves the site with gunicorn; docker/web.sh (what compose runs) migrates first.
FROM python:3.11-slim-bookworm AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# ffmpeg/ffprobe for the media pipeline; DejaVu so ffmpeg text filters (drawtext) find a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, from the lock file alone, so editing the code does not reinstall them:
# exactly the versions the tests ran with, hashes checked (S3 support included). The code runs
# from /app (PYTHONPATH below), as `python manage.py` does locally.
COPY requirements/app.lock ./requirements/app.lock
RUN pip install --require-hashes -r requirements/app.lock

# The source, read-only for the app user. Listed, not `COPY . .`, which would bring .venv, var/,
# .git and caches along.
COPY manage.py ./
COPY webapp ./webapp
COPY workers ./workers
COPY templates ./templates
COPY static ./static
COPY docker ./docker

# Writable places, owned by the app user. Named volumes mounted on /data/media and
# /app/staticfiles start with this ownership.
ENV PYTHONPATH=/app \
    DATA_DIR=/data \
    MEDIA_ROOT=/data/media \
    WORK_DIR=/data/work \
    STATIC_ROOT=/app/staticfiles
RUN mkdir -p /data/media /data/work /app/staticfiles \
    && chown -R app:app /data /app/staticfiles \
    && chmod 0755 /app/docker/*.sh

USER app

# Collect (hash + compress) static files into the image. manage.py refuses a weak key, so the
# build makes a strong throwaway one that signs nothing and is not kept in the image.
RUN SECRET_KEY="collectstatic-build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput

EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "webapp.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]

# GPU workers: the same image plus the `local` extra with torch's CUDA build from the package
# index (requirements/gpu.lock; the test lock carries the CPU build instead).
FROM app AS worker-gpu
USER root
COPY requirements/gpu.lock ./requirements/gpu.lock
RUN pip install --require-hashes -r requirements/gpu.lock
USER app

# The default target (a plain `docker build`): the web and vendor-worker image, no torch.
FROM app AS web
