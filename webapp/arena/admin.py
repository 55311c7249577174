"""The arena's rows for operators to inspect. Read-only: votes are never deleted or edited
by hand (a vote that must not count gets an excluded_reason through the services), tallies are
kept by database triggers, and boards are computed."""

from django.contrib import admin

from .models import Battle, NamedView, RatingSnapshot, Vote, VoteTally


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "pool", "category", "model_a", "model_b", "winner", "excluded_reason", "source")
    list_filter = ("pool", "winner", "excluded_reason", "source", "anony")
    list_select_related = ("model_a", "model_b")
    search_fields = ("external_id", "voter_key")
    date_hierarchy = "created_at"


@admin.register(Battle)
class BattleAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "created_at", "pool", "prompt")
    list_filter = ("pool",)
    list_select_related = ("prompt",)
    search_fields = ("public_id", "voter_key")


@admin.register(RatingSnapshot)
class RatingSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "pool", "category", "votes_counted", "bootstrap_rounds", "compute_seconds")
    list_filter = ("pool", "category")


@admin.register(VoteTally)
class VoteTallyAdmin(ReadOnlyAdmin):
    list_display = ("pool", "category", "model_a", "model_b", "winner", "votes")
    list_filter = ("pool", "category", "winner")


@admin.register(NamedView)
class NamedViewAdmin(ReadOnlyAdmin):
    list_display = ("first_seen_at", "prompt", "voter_key")
