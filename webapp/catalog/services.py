"""Loading the catalog from data files: models are data, so adding one needs no code."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from .models import VideoModel

DEFAULT_CATALOG = Path(__file__).parent / "data" / "catalog.json"
FIELDS = ("display_name", "vendor", "backend_key", "backend_params", "description", "is_procedural_demo",
          "enabled", "max_duration_s", "supported_aspect_ratios")


class CatalogError(ValueError):
    pass


def load_catalog(path: Path = DEFAULT_CATALOG, *, keep_enabled_flag: bool = True) -> tuple[int, int]:
    """Upsert every model in the file. An operator's enable/disable choice in the admin wins
    over the file unless keep_enabled_flag is False. Returns (created, updated)."""
    try:
        entries = json.loads(Path(path).read_text())["models"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"{path}: not a catalog file ({exc})") from exc
    created = updated = 0
    with transaction.atomic():
        for entry in entries:
            if "slug" not in entry or "backend_key" not in entry:
                raise CatalogError(f"{path}: every model needs a slug and a backend_key: {entry!r}")
            defaults = {key: entry[key] for key in FIELDS if key in entry}
            model = VideoModel.objects.filter(slug=entry["slug"]).first()
            if model is None:
                model = VideoModel(slug=entry["slug"])
                created += 1
            else:
                if keep_enabled_flag:
                    defaults.pop("enabled", None)
                updated += 1
            for key, value in defaults.items():
                setattr(model, key, value)
            model.full_clean()
            model.save()
    return created, updated
