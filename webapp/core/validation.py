"""The JSON API's one input policy: how a body is read and what each field's type means.

Every JSON endpoint reads its body with `read_json_object(request, fields)`, so every endpoint
answers the same input the same way (the OpenAPI document, core/openapi.json, states these
rules once):

- the body is at most MAX_BODY_BYTES of UTF-8 JSON, sent as `application/json` (413, 415);
- it is one object, nested at most MAX_DEPTH deep (checked on the text, before the parser
  could recurse), with no duplicate and no unknown field (400);
- numbers are JSON numbers: a string is never a number and `true` is never 1; a literal too
  long to be a sensible value is refused rather than parsed (422 `number_out_of_range`);
  an integer field takes a number with no fractional part (JSON Schema's rule, so `7.0` is 7);
- `null` means the field was not given;
- text fields (a prompt) may not carry invisible or control characters: categories Cc
  (controls), Cf (format: bidi overrides, zero-width spaces), Cs (lone surrogates), Co
  (private use) and Cn (unassigned), after ordinary whitespace is collapsed (422
  `invalid_characters`); identifier fields (slugs, tokens, choices) may carry none at all.

Rule violations are 422 with the field named; a body that is not a readable object is 400.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from .errors import ScreentestError

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 8
# The longest number literal taken as a number (digits, sign, point and exponent together).
MAX_NUMBER_CHARS = 40
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
# Zero-width (non-)joiners are Cf but belong to emoji sequences and to Persian and Indic
# spelling: taken between two visible characters, refused anywhere else.
JOINERS = frozenset({"\u200c", "\u200d"})

STRING, TEXT, NUMBER, INTEGER, STRING_LIST = "string", "text", "number", "integer", "string_list"


@dataclass(frozen=True)
class Field:
    """One field of a JSON body. `kind`: STRING (an identifier: no invisible character at
    all), TEXT (free text: checked by `clean_text` where it is used), NUMBER, INTEGER or
    STRING_LIST; `max_length`: characters of a string, items of a list."""

    kind: str
    max_length: int | None = None


class _OutOfRange(str):
    """A number literal too long (or too large for a float) to be taken as a value."""


class _NotJson(ValueError):
    pass


def _parse_int(literal: str) -> int | _OutOfRange:
    return _OutOfRange(literal) if len(literal) > MAX_NUMBER_CHARS else int(literal)


def _parse_float(literal: str) -> float | _OutOfRange:
    if len(literal) > MAX_NUMBER_CHARS:
        return _OutOfRange(literal)
    value = float(literal)
    return value if math.isfinite(value) else _OutOfRange(literal)


def _refuse_constant(name: str):
    raise _NotJson(f"{name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            name = _printable(key)
            raise ScreentestError("duplicate_field", f"The field {name!r} appears twice.", field=name)
        data[key] = value
    return data


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _body_text(request: HttpRequest) -> str:
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ScreentestError("payload_too_large", f"The body may be at most {MAX_BODY_BYTES} bytes.", status=413)
    try:
        body = request.body
    except RequestDataTooBig:
        raise ScreentestError(
            "payload_too_large", f"The body may be at most {MAX_BODY_BYTES} bytes.", status=413
        ) from None
    if len(body) > MAX_BODY_BYTES:
        raise ScreentestError("payload_too_large", f"The body may be at most {MAX_BODY_BYTES} bytes.", status=413)
    if not body.strip():
        raise ScreentestError("malformed_json", "The request body is empty; send a JSON object.")
    if request.content_type != "application/json":
        raise ScreentestError("unsupported_media_type", "Send the body as application/json.", status=415)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ScreentestError("malformed_json", "The request body is not UTF-8.") from None


def read_json_object(request: HttpRequest, fields: Mapping[str, Field]) -> dict[str, Any]:
    """The body as a JSON object whose every field is one of `fields` and of its type; fields
    given as null are left out. Raises ScreentestError (see the module's rules)."""
    text = _body_text(request)
    if nesting_depth(text) > MAX_DEPTH:
        raise ScreentestError("malformed_json", f"The body nests deeper than {MAX_DEPTH} levels.")
    try:
        data = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_refuse_constant,
            object_pairs_hook=_no_duplicates,
        )
    except (ValueError, RecursionError):
        raise ScreentestError("malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ScreentestError("malformed_json", "The request body must be a JSON object.")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        shown = ", ".join(repr(name) for name in unknown[:5])
        raise ScreentestError("unknown_field", f"Unknown field(s): {shown}.", field=_printable(unknown[0]))
    return {name: check(name, fields[name], value) for name, value in data.items() if value is not None}


def _printable(name: str) -> str:
    return name if not first_invisible(name) else name.encode("unicode_escape").decode("ascii")


def _type_error(name: str, what: str) -> ScreentestError:
    return ScreentestError("invalid_type", f"{name} must be {what}.", status=422, field=name)


def check(name: str, spec: Field, value: Any) -> Any:
    """One field's value, of the type `spec` says (an integer field's 7.0 becomes 7)."""
    if isinstance(value, _OutOfRange):
        if spec.kind in (NUMBER, INTEGER):
            raise ScreentestError(
                "number_out_of_range", f"{name} is too large a number to be taken.", status=422, field=name
            )
        raise _type_error(name, "a string" if spec.kind in (STRING, TEXT) else "a list of strings")
    if spec.kind in (STRING, TEXT):
        if not isinstance(value, str):
            raise _type_error(name, "a string")
        if spec.kind == STRING:
            _check_identifier(name, value, spec.max_length)
        return value
    if spec.kind in (NUMBER, INTEGER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _type_error(name, "a number" if spec.kind == NUMBER else "a whole number")
        if spec.kind == INTEGER:
            if isinstance(value, float) and not value.is_integer():
                raise _type_error(name, "a whole number")
            return int(value)
        return value
    if spec.kind == STRING_LIST:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _type_error(name, "a list of strings")
        if spec.max_length is not None and len(value) > spec.max_length:
            raise ScreentestError(
                "too_many_items", f"{name} may hold at most {spec.max_length} items.", status=422, field=name
            )
        for item in value:
            _check_identifier(name, item, None)
        return value
    raise ValueError(f"unknown field kind {spec.kind!r}")


def _check_identifier(name: str, value: str, max_length: int | None) -> None:
    if max_length is not None and len(value) > max_length:
        raise ScreentestError(
            "too_long", f"{name} is {len(value)} characters; the limit is {max_length}.", status=422, field=name
        )
    if any(unicodedata.category(ch) in INVISIBLE_CATEGORIES for ch in value):
        raise ScreentestError(
            "invalid_characters", f"{name} contains invisible or control characters.", status=422, field=name
        )


# --- free text ---------------------------------------------------------------------------------


def first_invisible(text: str) -> str | None:
    """The first character of `text` that is invisible or a control (INVISIBLE_CATEGORIES;
    a joiner counts only when it does not sit between two visible characters), or None."""
    for i, ch in enumerate(text):
        if unicodedata.category(ch) not in INVISIBLE_CATEGORIES:
            continue
        if ch in JOINERS and 0 < i < len(text) - 1 and _visible(text[i - 1]) and _visible(text[i + 1]):
            continue
        return ch
    return None


def _visible(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch) not in INVISIBLE_CATEGORIES


def describe(ch: str) -> str:
    """U+202E RIGHT-TO-LEFT OVERRIDE, for a message."""
    return f"U+{ord(ch):04X}" + (f" {unicodedata.name(ch)}" if unicodedata.name(ch, "") else "")


def collapse_whitespace(value: str) -> str:
    """Runs of whitespace (line breaks and tabs included) as one space, none at the ends."""
    return " ".join(value.split())


def clean_text(value: str, field: str) -> str:
    """Free text as stored: whitespace collapsed, and refused (422 `invalid_characters`) when
    it still carries an invisible or control character."""
    text = collapse_whitespace(value)
    bad = first_invisible(text)
    if bad is not None:
        raise ScreentestError(
            "invalid_characters",
            f"{field} contains an invisible or control character ({describe(bad)}); remove it.",
            status=422,
            field=field,
        )
    return text


# --- query parameters --------------------------------------------------------------------------


def check_query(request: HttpRequest, allowed: set[str] | frozenset[str]) -> None:
    """Refuse query parameters an endpoint does not know (400 `unknown_parameter`)."""
    unknown = sorted(set(request.GET) - set(allowed))
    if unknown:
        name = _printable(unknown[0])
        raise ScreentestError("unknown_parameter", f"Unknown query parameter {name!r}.", field=name)


def int_param(request: HttpRequest, name: str, default: int, *, minimum: int = 1, maximum: int = 10**9) -> int:
    """A query parameter that must be a whole number from `minimum` to `maximum`, written in
    ASCII digits (400 `invalid_<name>` otherwise)."""
    raw = request.GET.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(maximum)) or not minimum <= int(raw) <= maximum:
        raise ScreentestError(
            f"invalid_{name}", f"{name} must be a whole number from {minimum} to {maximum}.", field=name
        )
    return int(raw)
