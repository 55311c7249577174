from django.db import models

from webapp.studio.models import Prompt, new_public_id


class Winner(models.TextChoices):
    """FastChat's clean-battle labels, so exports and imports speak that schema natively."""

    MODEL_A = "model_a", "Left better"
    MODEL_B = "model_b", "Right better"
    TIE = "tie", "Tie"
    BOTH_BAD = "tie (bothbad)", "Both bad"


class ExcludedReason(models.TextChoices):
    """Why a vote is kept but not counted. Votes are never deleted; an empty reason counts."""

    COUNTED = "", "Counted"
    HIDDEN_CLIP = "hidden_clip", "A moderator hid one of its clips"
    SAW_NAMED_RESULTS = "saw_named_results", "The voter had seen the prompt's results with names"
    NOT_WATCHED = "not_watched", "Cast sooner after the clips were served than they last"
    OUTLIER_VOTER = "outlier_voter", "The voter's votes disagree with everyone's far beyond chance"
    LOGIN_REQUIRED = "login_required", "The official board counts only logged-in voters here"
    ADDRESS_OVER_CAP = "address_over_cap", "Too many counted votes from one address this hour"


class VoteQuerySet(models.QuerySet):
    def counted(self):
        """Votes that count on a board: no exclusion, cast blind."""
        return self.filter(excluded_reason=ExcludedReason.COUNTED, anony=True)

    def on_clip(self, clip_id):
        """Arena votes on a battle that showed this clip, on either side."""
        return self.filter(models.Q(battle__left_id=clip_id) | models.Q(battle__right_id=clip_id))


class BattleState(models.TextChoices):
    PREPARING = "preparing", "Preparing its clips"
    READY = "ready", "Ready"
    VOTED = "voted", "Voted"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Could not be prepared"


LIVE_BATTLE_STATES = (BattleState.PREPARING, BattleState.READY)


class Battle(models.Model):
    """Two clips of the same prompt from different models, served blind to one voter. Left
    and right are chosen on the server; the client only ever sees `public_id` (signed).

    Each battle has its own renditions of its two clips (`left_media`, `right_media`), made by
    a worker (arena/services/renditions.py) in one shape for the whole prompt and with
    per-battle noise, so no byte, header or size of a served file says which model made it
    or repeats in another battle. A voter holds at most one served battle (`served_at` set,
    not voted): asking for another records a skip."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="battles")
    left = models.ForeignKey("studio.Clip", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("studio.Clip", on_delete=models.CASCADE, related_name="+")
    # The unordered pair, so "never the same battle twice" holds whichever side a clip was on.
    pair_key = models.CharField(max_length=64)
    voter_key = models.CharField(max_length=64, db_index=True)
    pool = models.CharField(max_length=16, choices=Prompt.Pool.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=12, choices=BattleState.choices, default=BattleState.PREPARING)
    # The voter had seen the prompt's results with names: their vote is kept, not counted.
    named = models.BooleanField(default=False)
    left_media = models.FileField(upload_to="battles/", max_length=300, blank=True)
    right_media = models.FileField(upload_to="battles/", max_length=300, blank=True)
    duration_s = models.FloatField(null=True, blank=True, help_text="of both renditions")
    render_attempts = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    # When the token went to the voter, and when each side's media was first fetched: a vote
    # counts only once the clips could have been watched through (arena/services/votes.py).
    served_at = models.DateTimeField(null=True, blank=True)
    left_fetched_at = models.DateTimeField(null=True, blank=True)
    right_fetched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, help_text="voted, skipped or failed")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["voter_key", "pair_key"], name="one_battle_per_pair_per_voter")]
        indexes = [models.Index(fields=["voter_key", "state"], name="battle_voter_state")]

    def __str__(self):
        return f"battle {self.public_id}"


class Vote(models.Model):
    """One judgement. Never deleted: a vote that must not count gets an `excluded_reason`."""

    class Source(models.TextChoices):
        ARENA = "arena", "Voted here"
        IMPORT = "import", "Imported"

    battle = models.OneToOneField(Battle, null=True, blank=True, on_delete=models.SET_NULL, related_name="vote")
    model_a = models.ForeignKey("catalog.VideoModel", on_delete=models.PROTECT, related_name="+")
    model_b = models.ForeignKey("catalog.VideoModel", on_delete=models.PROTECT, related_name="+")
    winner = models.CharField(max_length=16, choices=Winner.choices)
    pool = models.CharField(max_length=16, choices=Prompt.Pool.choices, db_index=True)
    category = models.CharField(max_length=48, blank=True, db_index=True)
    voter_key = models.CharField(max_length=64, db_index=True)
    ip_hash = models.CharField(max_length=64, blank=True)
    watched_left_s = models.FloatField(null=True, blank=True)
    watched_right_s = models.FloatField(null=True, blank=True)
    excluded_reason = models.CharField(max_length=48, blank=True, db_index=True, choices=ExcludedReason.choices)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.ARENA)
    external_id = models.CharField(max_length=128, blank=True, help_text="id in the source of an imported vote")
    anony = models.BooleanField(default=True, help_text="cast blind (FastChat's anony); only anonymous votes can count")
    # An imported vote's two clips as its record described them (the battle export's clip_a_* /
    # clip_b_* columns), so the controlled board and the agreement page can use it:
    # {"a": {column: value}, "b": {...}}. Null for arena votes: their clips are rows.
    imported_clips = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    objects = VoteQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["pool", "excluded_reason"], name="vote_board_filter")]
        constraints = [
            # An imported record (its source id, or digest) is stored at most once per pool.
            models.UniqueConstraint(
                fields=["pool", "external_id"],
                condition=~models.Q(external_id=""),
                name="one_import_per_external_id_and_pool",
            ),
        ]

    def __str__(self):
        return f"vote {self.pk} {self.winner}"


class VoteTally(models.Model):
    """Counted votes (no excluded_reason, cast blind) per pool, category, ordered pair and
    winner label. Kept by database triggers on arena_vote (migration 0002), in the same
    transaction as every INSERT, UPDATE, DELETE or COPY of votes, so a leaderboard sums a few
    hundred rows instead of scanning every vote. Derived data: the application never writes
    it; `manage.py vote_tallies --check / --rebuild` compares it with / rebuilds it from votes."""

    pool = models.CharField(max_length=16)
    category = models.CharField(max_length=48, blank=True)
    # No database constraint: triggers may leave a zero row behind for a model deleted later.
    model_a = models.ForeignKey(
        "catalog.VideoModel", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    model_b = models.ForeignKey(
        "catalog.VideoModel", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    winner = models.CharField(max_length=16, choices=Winner.choices)
    votes = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "category", "model_a", "model_b", "winner"],
                name="one_tally_per_pool_category_pair_winner",
            )
        ]

    def __str__(self):
        return f"{self.pool}/{self.category or 'all'} {self.model_a_id}-{self.model_b_id} {self.winner}: {self.votes}"


class RatingSnapshot(models.Model):
    """A computed leaderboard, stored so pages never compute ratings inline."""

    pool = models.CharField(max_length=16)
    category = models.CharField(max_length=48, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    votes_counted = models.PositiveIntegerField()
    bootstrap_rounds = models.PositiveIntegerField()
    compute_seconds = models.FloatField()
    rows = models.JSONField(help_text="one entry per listed model, best first")
    pairwise = models.JSONField(default=dict, help_text="win-rate and battle-count matrices")
    elo_state = models.JSONField(default=dict, help_text="where the live Elo stopped (services/live_elo.py)")
    analysis = models.JSONField(
        default=dict, help_text="controlled board, agreement of measurements, per-prompt boards (services/analysis.py)"
    )

    class Meta:
        indexes = [models.Index(fields=["pool", "category", "-created_at"], name="snapshot_latest")]

    def __str__(self):
        return f"{self.pool}/{self.category or 'all'} board of {self.created_at:%Y-%m-%d %H:%M}"


class NamedView(models.Model):
    """A voter saw a prompt's results with model names (its prompt page or API). Their later
    votes on that prompt are kept but excluded from the official board, and battles avoid it."""

    voter_key = models.CharField(max_length=64)
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="+")
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["voter_key", "prompt"], name="one_named_view_per_voter_prompt")]

    def __str__(self):
        return f"named view of prompt {self.prompt_id}"
