"""An outage of the database, Redis or the S3 media storage answers 503 with Retry-After, never 500: a client can
tell "try again later" from "broken". JSON under /api/, a short page elsewhere (a template
could need the very service that is down)."""

from __future__ import annotations

from botocore.exceptions import ConnectionError as StorageConnectionError
from django.conf import settings
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import HttpRequest, HttpResponse
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .api import is_api, json_error

OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    DatabaseOperationalError,
    DatabaseInterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    BrokerOperationalError,
    StorageConnectionError,  # S3 endpoint unreachable or timing out (media on another host's bucket)
)
CODE = "service_unavailable"
MESSAGE = "The service is briefly unavailable. Please try again shortly."


def is_outage(exc: BaseException | None) -> bool:
    """Whether `exc`, or an error it was raised from, says a service we depend on is down."""
    for _ in range(10):
        if exc is None:
            return False
        if isinstance(exc, OUTAGE_ERRORS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def outage_response(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        response: HttpResponse = json_error(503, CODE, MESSAGE)
    else:
        response = HttpResponse(
            f"<!doctype html><title>Back shortly</title><p>{MESSAGE}</p>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER_S)
    response["Cache-Control"] = "no-store"
    return response
