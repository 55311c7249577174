"""CSV cells that a spreadsheet would run (OWASP's CSV injection): a text cell starting with
=, +, -, @, a tab or a carriage return (or their full-width forms, which some spreadsheets
read the same way), after any leading spaces, gets a leading apostrophe, so the spreadsheet
shows it as text. Every CSV the site writes passes its cells through `neutralise` (the battle
and leaderboard exports, the audit log); numbers stay numbers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip(" ")[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def neutralise_row(values: Iterable[Any]) -> list[Any]:
    return [neutralise(value) for value in values]
