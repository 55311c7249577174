"""Holding responses to the OpenAPI document (webapp/core/openapi.json): which statuses and
content types an operation documents, and whether a JSON body matches its schema. Shared by
the unit test (Django's test client) and the fuzz run (a real gunicorn)."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs

from webapp.core.openapi import document


def operation(path_template: str, method: str) -> dict:
    return document()["paths"][path_template][method.lower()]


def template_of(path: str) -> str | None:
    """The document's path template a concrete path belongs to (a literal path before a
    template that would also match it: /battles/export before /battles/{public_id})."""
    for template in sorted(document()["paths"], key=lambda t: "{" in t):
        pattern = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return template
    return None


def violations(
    path: str, method: str, status: int, content_type: str, body: bytes, *, template: str | None = None
) -> list[str]:
    """What in this response the document does not allow (empty when it conforms). `template`:
    the operation's path template when the caller knows it (a fuzzed path may not match)."""
    template = template or template_of(path)
    if template is None:
        return [f"{path}: not in the document"]
    responses = operation(template, method)["responses"]
    documented = responses.get(str(status))
    if documented is None:
        return [f"{method} {template}: status {status} is not documented ({sorted(responses)})"]
    media = content_type.split(";")[0].strip()
    content = documented.get("content", {})
    if media not in content:
        return [f"{method} {template} {status}: content type {media!r} is not documented ({sorted(content)})"]
    if media != "application/json":
        return []
    try:
        value: Any = json.loads(body)
    except ValueError:
        return [f"{method} {template} {status}: the body is not JSON"]
    schema = {**content[media]["schema"], "components": document()["components"]}
    validator = jsonschema_rs.validator_for(schema)
    return [
        f"{method} {template} {status}: {error.message} at {list(error.instance_path)}"
        for error in validator.iter_errors(value)
    ][:5]
