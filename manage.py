#!/usr/bin/env python
import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.management import execute_from_command_line

from webapp.core.secret_key import require_strong_secret_key


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    try:
        require_strong_secret_key()  # with DEBUG off, no command runs on a public or weak key
    except ImproperlyConfigured as exc:
        sys.exit(f"manage.py: {exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
