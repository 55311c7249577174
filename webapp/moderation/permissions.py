"""The moderator permission: every moderation view and action requires it (403 otherwise)."""

from functools import wraps

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied

from webapp.policy.states import MODERATE_PERMISSION

MODERATE = MODERATE_PERMISSION
MODERATORS_GROUP = "moderators"


def is_moderator(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(MODERATE))


def moderator_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_moderator(request.user):
            raise PermissionDenied("Moderators only.")
        return view(request, *args, **kwargs)

    return wrapper


def ensure_moderators_group(sender=None, **kwargs) -> None:
    """post_migrate: the moderators group holds the moderate permission. Recreated after every
    migrate and flush, so the group exists whatever emptied the tables (the data migration
    alone would not survive a test-database flush)."""
    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    wanted = Permission.objects.filter(
        content_type__app_label="moderation", codename__in=["moderate", "view_report", "view_auditentry"]
    )
    group.permissions.add(*wanted)
