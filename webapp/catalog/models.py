from django.core.exceptions import ValidationError
from django.db import models

from workers.backends.capabilities import FORBIDDEN_PARAMS as ADAPTER_FORBIDDEN_PARAMS
from workers.backends.capabilities import check_entry
from workers.backends.registry import BACKENDS


def backend_choices():
    return [(key, key) for key in sorted(BACKENDS)]


# Catalog data says which model to ask a vendor for, never where requests go, which secret is
# sent or which program runs: whoever may edit a model must not be able to send a server secret
# (SECRET_KEY, another vendor's key) to a host of their choosing, or run a binary (issue 12).
# Endpoints and key variables are the adapter's own, or the operator's environment's
# (SCREENTEST_<BACKEND>_BASE_URL, SCREENTEST_<BACKEND>_DOWNLOAD_HOSTS; docs/backends.md).
# The adapters' own list (which they refuse at job time), plus the demo backend's ffmpeg_binary.
FORBIDDEN_PARAMS = (*ADAPTER_FORBIDDEN_PARAMS, "ffmpeg_binary")
FORBIDDEN_SUFFIXES = ("_url", "_urls", "_env", "_host", "_hosts", "_binary")


def forbidden_params(params) -> list[str]:
    """The keys of `params` that catalog data may not set."""
    if not isinstance(params, dict):
        return []
    return sorted(
        key
        for key in params
        if not isinstance(key, str) or key in FORBIDDEN_PARAMS or key.lower().endswith(FORBIDDEN_SUFFIXES)
    )


def forbidden_params_message(names: list[str]) -> str:
    return (
        f"backend_params may not set {', '.join(names)}: endpoints, key variables and programs are "
        "not catalog data. An operator points a backend elsewhere in the environment "
        "(SCREENTEST_<BACKEND>_BASE_URL, SCREENTEST_<BACKEND>_DOWNLOAD_HOSTS); each adapter reads "
        "its own fixed key variables."
    )


class VideoModel(models.Model):
    """One text-to-video model as the arena knows it. Everything vendor-specific that an
    adapter needs (vendor model id, fps, limits) lives in `backend_params`, so adding a model
    hosted by an existing backend is data, not code."""

    slug = models.SlugField(max_length=64, unique=True)
    display_name = models.CharField(max_length=120)
    vendor = models.CharField(max_length=120)
    # Blank for models known only from imported votes: they cannot generate here.
    backend_key = models.CharField(max_length=64, choices=backend_choices, blank=True)
    backend_params = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    is_procedural_demo = models.BooleanField(
        default=False, help_text="Procedural demo renderer, not a neural video model; labelled as such everywhere."
    )
    enabled = models.BooleanField(default=True, help_text="accepts new prompts")
    in_arena = models.BooleanField(default=True, help_text="appears in battles and on the leaderboard")
    max_duration_s = models.FloatField(default=10.0)
    supported_aspect_ratios = models.JSONField(
        default=list, blank=True, help_text='e.g. ["16:9", "9:16", "1:1"]; empty means all'
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name

    def clean(self):
        if not isinstance(self.backend_params, dict):
            raise ValidationError({"backend_params": "must be a JSON object"})
        refused = forbidden_params(self.backend_params)
        if refused:
            raise ValidationError({"backend_params": forbidden_params_message(refused)})
        if self.max_duration_s <= 0:
            raise ValidationError({"max_duration_s": "must be positive"})
        if self.backend_key:  # the entry may offer only what its adapter says the model takes
            params = self.backend_params
            problems = check_entry(
                self.backend_key, params, params.get("durations") or [], self.supported_aspect_ratios or []
            )
            if problems:
                raise ValidationError({"backend_params": problems})

    @property
    def label(self) -> str:
        return f"{self.display_name} (procedural demo)" if self.is_procedural_demo else self.display_name


class ClaimSource(models.Model):
    """One source article of the feature table (docs/sources/, named by `file`)."""

    label = models.CharField(max_length=16, unique=True)  # A000 ...
    file = models.CharField(max_length=200)
    title = models.CharField(max_length=300, blank=True)
    byline = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["label"]

    def __str__(self):
        return self.label


class ClaimedSystem(models.Model):
    """A system the articles make claims about (a model line, or the traditional-production
    baseline). `model_slugs` names the catalog models whose measurements sit beside them."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    vendor = models.CharField(max_length=120, blank=True)
    is_baseline = models.BooleanField(default=False)
    model_slugs = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self):
        return self.name


class FeatureClaim(models.Model):
    """One claim, as an article states it. Conflicting claims are separate rows, all shown."""

    system = models.ForeignKey(ClaimedSystem, on_delete=models.CASCADE, related_name="claims")
    feature = models.CharField(max_length=48)
    value = models.CharField(max_length=300)
    sources = models.JSONField(default=list, help_text="ClaimSource labels")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["system__position", "position"]

    def __str__(self):
        return f"{self.system.slug}.{self.feature}: {self.value}"
