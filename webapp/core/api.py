"""JSON API plumbing shared by every app: one error shape, one body reader, one method check.

Errors are {"error": {"code", "message", "field"?}} (never Django's HTML pages): `api_view`
renders a view's ScreentestError, answers 405 for another method and refuses unknown query
parameters; `core/middleware.py` makes sure nothing else under /api/ answers HTML.

API views are CSRF-exempt: GET endpoints change nothing, and POST endpoints accept only
`application/json` (core/validation.py), which a browser cannot send cross-site without a
CORS preflight that this site never answers. Exempting them also lets a wrong method reach
the view and get its JSON 405, instead of the CSRF middleware's HTML 403.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.csrf import csrf_failure as html_csrf_failure
from django.views.decorators.csrf import csrf_exempt

from .errors import ScreentestError
from .validation import Field, check_query, read_json_object

__all__ = ["Field", "api_view", "error_response", "is_api", "json_error", "read_json_object"]

log = logging.getLogger(__name__)
API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(error: ScreentestError) -> JsonResponse:
    response = JsonResponse({"error": error.as_dict()}, status=error.status)
    if error.retry_after:
        response["Retry-After"] = str(error.retry_after)
    return response


def json_error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return error_response(ScreentestError(code, message, status=status, field=field))


def api_view(*methods: str, query: Collection[str] = ()) -> Callable:
    """Only these HTTP methods (405 in JSON otherwise, with Allow) and these query parameters
    (400 `unknown_parameter` otherwise); any ScreentestError the view raises becomes its JSON
    error response."""
    allowed_query = frozenset(query)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = json_error(405, "method_not_allowed", f"Use {' or '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                check_query(request, allowed_query)
                return view(request, *args, **kwargs)
            except ScreentestError as exc:
                return error_response(exc)

        wrapper.api_methods = tuple(methods)  # type: ignore[attr-defined]  # read by the OpenAPI test
        return csrf_exempt(wrapper)

    return decorator


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: JSON under /api/, Django's page elsewhere."""
    if is_api(request):
        return json_error(403, "csrf_failed", "This request was refused: its CSRF check failed.")
    return html_csrf_failure(request, reason=reason)
