"""The OpenAPI 3.1 document of the JSON API (openapi.json beside this module, written by
hand), served at /api/v1/openapi.json. It covers the studio's and the arena's endpoints and
states the input rules of core/validation.py once; tests/unit/test_openapi.py holds it to the
URLconf and to real responses, and tests/integration/test_api_fuzz.py fuzzes the running site
from it."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from django.http import HttpRequest, JsonResponse

from .api import api_view

DOCUMENT = Path(__file__).resolve().parent / "openapi.json"


@functools.cache
def document() -> dict:
    return json.loads(DOCUMENT.read_text())


@api_view("GET")
def openapi_document(request: HttpRequest) -> JsonResponse:
    return JsonResponse(document(), json_dumps_params={"ensure_ascii": False})
