"""The moderator permission: every moderation view and action requires it (403 otherwise)."""

from functools import wraps

from django.core.exceptions import PermissionDenied

MODERATE = "moderation.moderate"
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
