"""A pytest plugin (pyproject.toml: `-p tests.secret_key_plugin`), imported before Django reads
its settings: the test run and every process it starts (gunicorn, Celery workers, manage.py)
share one strong random SECRET_KEY, since with DEBUG off they refuse a weak one
(webapp/core/secret_key.py)."""

import os
import secrets

if not os.environ.get("SECRET_KEY_FILE") and len(os.environ.get("SECRET_KEY", "")) < 50:
    os.environ["SECRET_KEY"] = "test-run-" + secrets.token_urlsafe(48)
