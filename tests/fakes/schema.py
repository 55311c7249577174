"""A small request-schema checker the fakes share: each fake transcribes its vendor's published
schema into `Field`s and turns the `Problem`s into the error body that vendor sends."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]
    required: bool = False
    enum: Iterable[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None  # characters (UTF-16 code units when utf16=True)
    utf16: bool = False


@dataclass(frozen=True)
class Problem:
    field: str
    code: str  # missing | unknown | type | enum | range | length
    message: str


def _is_kind(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool):
        return bool in kinds  # JSON true is not a number, whatever Python thinks
    if isinstance(value, int) and float in kinds:
        return True
    return isinstance(value, kinds)


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def check(body: Mapping[str, Any], fields: Mapping[str, Field], *, prefix: str = "") -> list[Problem]:
    problems = []
    for name in body:
        if name not in fields:
            problems.append(Problem(prefix + name, "unknown", f"unrecognized field {prefix + name!r}"))
    for name, spec in fields.items():
        path = prefix + name
        if name not in body or body[name] is None:
            if spec.required:
                problems.append(Problem(path, "missing", f"{path!r} is required"))
            continue
        value = body[name]
        if not _is_kind(value, spec.kind):
            problems.append(Problem(path, "type", f"{path!r} must be a {_type_name(spec.kind)}"))
            continue
        if spec.enum is not None and value not in list(spec.enum):
            allowed = ", ".join(repr(v) for v in spec.enum)
            problems.append(Problem(path, "enum", f"{path!r} must be one of {allowed}, got {value!r}"))
        if spec.minimum is not None and value < spec.minimum or spec.maximum is not None and value > spec.maximum:
            problems.append(Problem(path, "range", f"{path!r} must be in [{spec.minimum}, {spec.maximum}]"))
        if spec.max_length is not None and isinstance(value, str):
            length = len(value.encode("utf-16-le")) // 2 if spec.utf16 else len(value)
            if length > spec.max_length or length == 0 and spec.required:
                problems.append(Problem(path, "length", f"{path!r} must be 1 to {spec.max_length} characters"))
    return problems
