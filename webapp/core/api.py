"""JSON API plumbing shared by every app: one error shape, one body reader, one method check.

Errors are {"error": {"code", "message", "field"?}} with a 4xx status (never Django's HTML
pages). POST endpoints are CSRF-exempt but accept only `application/json`, which a browser
cannot send cross-site without a CORS preflight that this site never answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import ScreentestError


def error_response(error: ScreentestError) -> JsonResponse:
    response = JsonResponse({"error": error.as_dict()}, status=error.status)
    if error.retry_after:
        response["Retry-After"] = str(error.retry_after)
    return response


def json_error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return error_response(ScreentestError(code, message, status=status, field=field))


def api_view(*methods: str) -> Callable:
    """Only these HTTP methods (405 in JSON otherwise, with Allow); any ScreentestError the
    view raises becomes its JSON error response."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = json_error(405, "method_not_allowed", f"Use {' or '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except ScreentestError as exc:
                return error_response(exc)

        return wrapper

    return decorator


def read_json_object(request: HttpRequest, *, allowed: Collection[str] | None = None) -> dict[str, Any]:
    """The request body as a JSON object. Raises ScreentestError: 415 for another content type,
    400 for an empty, unreadable or non-object body, and for fields outside `allowed`."""
    if not request.body:
        raise ScreentestError("malformed_json", "The request body is empty; send a JSON object.")
    if request.content_type != "application/json":
        raise ScreentestError("unsupported_media_type", "Send the body as application/json.", status=415)
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise ScreentestError("malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ScreentestError("malformed_json", "The request body must be a JSON object.")
    if allowed is not None:
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ScreentestError("unknown_field", f"Unknown field(s): {', '.join(unknown)}.", field=unknown[0])
    return data
