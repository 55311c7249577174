"""Loading the catalog from data files: models are data, so adding one needs no code."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from webapp.core.errors import ScreentestError

from .models import ClaimedSystem, ClaimSource, FeatureClaim, VideoModel, forbidden_params, forbidden_params_message

DEFAULT_CATALOG = Path(__file__).parent / "data" / "catalog.json"
FIELDS = (
    "display_name",
    "vendor",
    "backend_key",
    "backend_params",
    "description",
    "is_procedural_demo",
    "enabled",
    "max_duration_s",
    "supported_aspect_ratios",
)


class CatalogError(ScreentestError):
    """A catalog or claims file that cannot be loaded; nothing of it is kept."""

    def __init__(self, message: str):
        super().__init__("invalid_catalog", message)


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
            refused = forbidden_params(entry.get("backend_params"))
            if refused:
                raise CatalogError(f"{path}: model {entry['slug']!r}: {forbidden_params_message(refused)}")
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
            try:
                model.full_clean()
            except ValidationError as exc:
                problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
                raise CatalogError(f"{path}: model {entry['slug']!r}: {problems}") from None
            model.save()
    return created, updated


DEFAULT_CLAIMS = Path(__file__).parent / "data" / "feature_claims.json"


def load_claims(path: Path = DEFAULT_CLAIMS) -> int:
    """Replace the feature table (claims from the articles) with the file's. Returns the
    number of claims. Everything in one transaction: a bad file leaves the old table."""
    try:
        data = json.loads(Path(path).read_text())
        articles, systems, features = data["articles"], data["systems"], data["features"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"{path}: not a claims file ({exc})") from exc
    count = 0
    with transaction.atomic():
        FeatureClaim.objects.all().delete()
        ClaimedSystem.objects.all().delete()
        ClaimSource.objects.all().delete()
        for label, article in articles.items():
            ClaimSource.objects.create(
                label=label,
                file=article.get("file", ""),
                title=article.get("title", ""),
                byline=article.get("byline", ""),
            )
        for position, entry in enumerate(systems):
            system = ClaimedSystem.objects.create(
                slug=entry["slug"],
                name=entry["name"],
                vendor=entry.get("vendor") or "",
                is_baseline=bool(entry.get("baseline")),
                model_slugs=list(entry.get("models") or []),
                position=position,
            )
            for i, claim in enumerate(entry.get("claims") or []):
                if claim["feature"] not in features:
                    raise CatalogError(f"{path}: unknown feature {claim['feature']!r} for {entry['slug']}")
                unknown = set(claim["sources"]) - set(articles)
                if unknown:
                    raise CatalogError(f"{path}: unknown sources {sorted(unknown)} for {entry['slug']}")
                FeatureClaim.objects.create(
                    system=system,
                    feature=claim["feature"],
                    value=claim["value"],
                    sources=list(claim["sources"]),
                    position=i,
                )
                count += 1
    return count
