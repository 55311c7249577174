import pytest


def pytest_configure(config):
    """Tests serve static files straight from the source folders: no collectstatic, no manifest."""
    if not config.pluginmanager.has_plugin("django"):
        return
    from django.conf import settings

    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.WHITENOISE_USE_FINDERS = True
    settings.STATIC_ROOT = None


@pytest.fixture
def media_root(settings, tmp_path):
    """Every test that stores files gets a media root and scratch dir of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WORK_DIR = tmp_path / "work"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def demo_models(db):
    from webapp.catalog.models import VideoModel
    from webapp.catalog.services import load_catalog

    load_catalog()
    return list(VideoModel.objects.filter(backend_key="demo").order_by("slug"))


def stored_files(root) -> list[str]:
    """Relative paths of every file under a media root."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
