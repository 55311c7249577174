import secrets

from django.db import models

from webapp.core.querysets import PublicIdQuerySet
from webapp.policy.states import ModerationState

from .public_errors import public_message


def new_public_id() -> str:
    """Opaque, unguessable, carries nothing about the model or the time."""
    return secrets.token_urlsafe(12)


class PromptQuerySet(PublicIdQuerySet):
    def public(self):
        """Prompts anyone may see: the policy or a moderator allowed them."""
        return self.filter(moderation=ModerationState.ALLOWED)


PUBLIC_PROMPT = models.Q(moderation=ModerationState.ALLOWED)


class Prompt(models.Model):
    class Source(models.TextChoices):
        WEB = "web", "Web form"
        API = "api", "JSON API"
        SEED = "seed", "Demo content"
        SUITE = "suite", "Prompt suite"

    class Pool(models.TextChoices):
        # Suite prompts run with fixed settings and alone feed the official leaderboard.
        OFFICIAL = "official", "Official (prompt suite)"
        COMMUNITY = "community", "Community (user prompts)"

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    text = models.TextField()
    negative_prompt = models.TextField(blank=True)
    seed = models.BigIntegerField()
    duration_s = models.FloatField()
    aspect_ratio = models.CharField(max_length=8)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WEB)
    pool = models.CharField(max_length=16, choices=Pool.choices, default=Pool.COMMUNITY, db_index=True)
    category = models.CharField(max_length=48, blank=True, db_index=True)
    # No index of its own: prompt_newest_first serves every order and range on it, and a lone
    # created_at index drew the planner away from the gallery's covering search index (0015).
    created_at = models.DateTimeField(auto_now_add=True)
    # The prompt policy's outcome (webapp/policy), then a moderator's decision.
    moderation = models.CharField(
        max_length=8, choices=ModerationState.choices, default=ModerationState.ALLOWED, db_index=True
    )

    objects = PromptQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # prompt_newest_first: the default order; deep pages of 10,000 prompts went from 31 to
        # 18 ms with it (benchmarks/gallery_page.py).
        # The gallery pages through public prompts only: partial indexes that carry the order
        # (and the category) let a deep page or a category's page skip its OFFSET in the index
        # alone, without reading the table (benchmarks/gallery_page.py at a million prompts:
        # category page 500 from 33 to 4 ms of SQL; gallery/services/search.py pages by id).
        # Public prompts newest first: prompt_public_newest_search, made in SQL by studio
        # migration 0015 (it carries the search tsvector, which is not a model field).
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="prompt_newest_first"),
            models.Index(
                fields=["category", "-created_at", "-id"], name="prompt_category_newest", condition=PUBLIC_PROMPT
            ),
        ]

    def __str__(self):
        return self.text[:60]

    @property
    def is_public(self) -> bool:
        return self.moderation == ModerationState.ALLOWED

    def visible_clip_count(self) -> int:
        """Finished clips a moderator has not hidden (uses the jobs the caller prefetched)."""
        return sum(1 for job in self.jobs.all() if job.state == JobState.SUCCEEDED and not job.clip.hidden)


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Generating"
    PROCESSING = "processing", "Processing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REJECTED_BY_VENDOR = "rejected_by_vendor", "Rejected by vendor"
    CANCELLED = "cancelled", "Cancelled"
    # The prompt awaits a moderator: no worker may claim the job until it is approved.
    HELD = "held", "Awaits review"


TERMINAL_STATES = (JobState.SUCCEEDED, JobState.FAILED, JobState.REJECTED_BY_VENDOR, JobState.CANCELLED)
LEASED_STATES = (JobState.RUNNING, JobState.PROCESSING)


class GenerationJob(models.Model):
    """One prompt sent to one model. The database row is the truth about the job; Celery
    messages only say "look at job N". `running` is the vendor call, `processing` the media
    pipeline; both are held under a lease that a dead worker cannot renew."""

    # No index of its own: (prompt, state) and the unique (prompt, model) both start with it, so
    # every lookup, join and cascade by prompt uses one of those (migration 0014 dropped it).
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="jobs", db_index=False)
    model = models.ForeignKey("catalog.VideoModel", on_delete=models.PROTECT, related_name="jobs")
    state = models.CharField(max_length=20, choices=JobState.choices, default=JobState.QUEUED, db_index=True)
    attempts = models.PositiveIntegerField(default=0, help_text="claims of the generate stage (vendor calls)")
    media_attempts = models.PositiveIntegerField(default=0, help_text="claims of the media stage")
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    vendor_job_id = models.CharField(max_length=200, blank=True)
    vendor_metadata = models.JSONField(default=dict, blank=True)
    # The backend's output as received, kept in storage between the generate and media steps.
    original = models.FileField(upload_to="originals/", max_length=300, blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    # When a message for the job was last sent; the reaper resends only after a quiet period.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # How often the reaper sent the job's message again; each re-send doubles the quiet period
    # before the next one, so a backlog is not flooded with copies of messages still queued.
    resend_count = models.PositiveIntegerField(default=0)
    # When a moderator released a held job into the queue (review wait: queued_at to this).
    released_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["prompt_id", "model__display_name"]
        constraints = [models.UniqueConstraint(fields=["prompt", "model"], name="one_job_per_prompt_and_model")]
        indexes = [
            models.Index(fields=["state", "lease_expires_at"], name="job_state_lease"),
            # The gallery's status filters ask "has this prompt a job (not) in state X" for every
            # candidate prompt: one index-only probe with it, instead of reading the jobs' rows
            # (search + 3 filters at a million prompts: the count's SQL from ~40 to 5 - 16 ms).
            models.Index(fields=["prompt", "state"], name="job_prompt_state"),
        ]

    def __str__(self):
        return f"job {self.pk} {self.model_id} {self.state}"

    @property
    def stage_attempts(self) -> int:
        """Attempts used by the stage the job is in."""
        return self.media_attempts if self.state == JobState.PROCESSING else self.attempts

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def public_error(self) -> str:
        """What anyone may read about this job's error (public_errors.py); "" when it has none."""
        return public_message(self.error_code, final=self.is_terminal) if self.error_code else ""

    @property
    def latency_s(self) -> float | None:
        """The model's time: from the job's start (first claim by a worker) to a playable clip;
        waiting for a moderator or a free worker is not the model's (review_wait_s, queue_wait_s)."""
        if self.finished_at and self.started_at and self.state == JobState.SUCCEEDED:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def review_wait_s(self) -> float | None:
        if self.released_at and self.queued_at:
            return (self.released_at - self.queued_at).total_seconds()
        return None

    @property
    def queue_wait_s(self) -> float | None:
        ready = self.released_at or self.queued_at
        if self.started_at and ready:
            return max((self.started_at - ready).total_seconds(), 0.0)
        return None


class ClipQuerySet(PublicIdQuerySet):
    def public(self):
        """Clips anyone may see: not hidden by a moderator, of an allowed prompt."""
        return self.filter(hidden=False, job__prompt__moderation=ModerationState.ALLOWED)


class Clip(models.Model):
    """A finished video. `web` is the blind rendition (re-encoded, metadata stripped) that every
    page plays; all stored names are random so nothing in a URL says who made the clip."""

    job = models.OneToOneField(GenerationJob, on_delete=models.CASCADE, related_name="clip")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    original = models.FileField(upload_to="originals/", max_length=300)
    web = models.FileField(upload_to="clips/", max_length=300)
    poster = models.FileField(upload_to="posters/", max_length=300)
    sha256_original = models.CharField(max_length=64)
    sha256_web = models.CharField(max_length=64)
    duration_s = models.FloatField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    fps = models.FloatField()
    codec = models.CharField(max_length=32)
    bytes = models.PositiveBigIntegerField(help_text="size of the web rendition")
    original_bytes = models.PositiveBigIntegerField()
    original_codec = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A hidden clip leaves the gallery, the API and the battle pool (moderation/decisions.py).
    hidden = models.BooleanField(default=False, db_index=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    # The named download: a copy of the original carrying the provenance record, made once on
    # the media queue when first asked for (services/originals.py); blank until then, and never
    # made for an original with a C2PA manifest (that one is downloaded as received).
    tagged_original = models.FileField(upload_to="originals/", max_length=300, blank=True)
    # C2PA manifest in the original as received: None = not checked (reader unavailable).
    c2pa_present = models.BooleanField(null=True, blank=True)
    c2pa_summary = models.JSONField(default=dict, blank=True)
    # The original's sound as the media stage found it (workers/media/audio.py AudioInfo):
    # codec, channels, sample rate, decoded duration, integrated loudness, true peak, silence
    # share, and notes on what is wrong with it. The web rendition carries it when playable.
    has_audio = models.BooleanField(default=False)
    audio = models.JSONField(default=dict, blank=True)
    # Automatic per-clip measurements (docs/metrics.md): metric name -> number, or None where the
    # metric could not be computed. `measurements_version` is the version of the measuring code
    # that produced them (0 = never measured); a newer version is recomputed in the background.
    measurements = models.JSONField(default=dict, blank=True)
    measurements_version = models.PositiveIntegerField(default=0, db_index=True)

    objects = ClipQuerySet.as_manager()

    def __str__(self):
        return f"clip {self.public_id}"

    @property
    def audible(self) -> bool:
        """Its web rendition carries sound: the original has a track that could be decoded."""
        notes = self.audio.get("notes") if isinstance(self.audio, dict) else None
        return self.has_audio and not any(isinstance(n, dict) and n.get("code") == "undecodable" for n in notes or [])


class UndeletedFile(models.Model):
    """A stored file that no row names any more but whose delete failed: the media storage (an
    S3 bucket) was unreachable while a step cleaned up after itself. The reaper deletes it once
    the storage answers again (services/undeleted.py), so an outage leaves no orphan object."""

    name = models.CharField(max_length=300, unique=True)
    noted_at = models.DateTimeField(auto_now_add=True)
    tries = models.PositiveIntegerField(default=0)

    def __str__(self):
        return self.name
