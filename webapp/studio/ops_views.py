"""The operators' page: today's estimated spend against the cap, the queue against its cap, and
the models the money goes to (webapp/studio/services/budget.py). Staff only, 403 otherwise."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .services import budget


def staff_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@staff_required
def ops_page(request):
    return render(
        request,
        "studio/ops.html",
        {
            "report": budget.report(),
            "unpriced_per_second": settings.SPEND_UNPRICED_PER_SECOND_USD,
            "limits": [
                ("Prompts per IP address per hour", settings.SUBMIT_RATE_PER_IP_PER_HOUR or "no limit"),
                ("Prompts per browser session per hour", settings.SUBMIT_RATE_PER_SESSION_PER_HOUR or "no limit"),
                (
                    "Same prompt again within",
                    f"{settings.DUPLICATE_PROMPT_WINDOW_S} s returns the earlier one"
                    if settings.DUPLICATE_PROMPT_WINDOW_S > 0
                    else "off",
                ),
            ],
        },
    )
