import os

from django.core.asgi import get_asgi_application

from webapp.core.secret_key import require_strong_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
require_strong_secret_key()  # with DEBUG off, never serve on a public or weak key
application = get_asgi_application()
