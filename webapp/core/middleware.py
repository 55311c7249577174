"""Site-wide response rules: the JSON API never answers HTML (an outage of the database or
Redis is a JSON 503 with Retry-After, core/outages.py), and every page carries the
Content-Security-Policy from settings."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .api import is_api, json_error
from .outages import is_outage, outage_response

log = logging.getLogger("webapp.api")

MESSAGES = {
    400: ("bad_request", "The request could not be read."),
    403: ("forbidden", "This request is not allowed."),
    404: ("not_found", "Nothing here."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("payload_too_large", "The request is too large."),
}


class ApiJsonOnlyMiddleware:
    """Outermost: under /api/, an unexpected exception becomes a JSON 500 (logged with its
    traceback, never shown), and any error page another layer rendered as HTML (Django's CSRF,
    400 or debug pages) becomes the JSON error of the same status. The views' own errors are
    already JSON (core/api.py); this is the last resort, not the way errors are made."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_api(request) and response.status_code >= 400 and not _is_json(response):
            code, message = MESSAGES.get(response.status_code, ("server_error", "Something broke on our side."))
            replacement = json_error(response.status_code, code, message)
            for header in ("Allow", "Retry-After"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api(request):
            return None
        if is_outage(exception):
            log.error("service outage answering %s %s: %s", request.method, request.path, exception)
            return outage_response(request)
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return json_error(500, "server_error", "Something broke on our side.")


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() == "application/json"


def _has_control(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


class ControlCharactersMiddleware:
    """No URL of this site has a control character (a NUL, a line break) in its path or query,
    and no form field a NUL: such a request is answered 404 (path) or 400 (query, form) before
    any view could pass the text to the database, which refuses NUL with an error. (JSON
    bodies are checked field by field, core/validation.py.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_control(request.path):
            return self._refuse(request, 404, "not_found", "Nothing here.")
        if any(_has_control(key) or any(map(_has_control, values)) for key, values in request.GET.lists()):
            return self._refuse(request, 400, "invalid_characters", "The query string holds control characters.")
        if request.method == "POST" and any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.POST.lists()
        ):
            return self._refuse(request, 400, "invalid_characters", "A form field holds a NUL character.")
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
        if is_api(request):
            return json_error(status, code, message)
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class ContentSecurityPolicyMiddleware:
    """settings.CONTENT_SECURITY_POLICY on every response that has none of its own. The
    templates carry no inline script, handler or style attribute, so the policy needs no
    'unsafe-inline'."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
