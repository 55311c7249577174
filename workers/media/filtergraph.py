"""Filter graphs for ``-vf`` / ``-filter_complex``, written as text.

An option value passes two parsers before its filter sees it (ffmpeg-filters, "Notes on
filtergraph escaping"): the graph parser, which splits at ``[ ] , ;``, then the option parser,
which splits at ``:``. Both treat ``\\`` as an escape and ``'`` as a quote, and drop unescaped
whitespace at either end of what they read. `escape_value` escapes for the option parser, then
for the graph parser, so any string (a file path with ``:``, ``'``, ``,``, spaces) arrives intact.
"""

from __future__ import annotations

_WHITESPACE = " \t\n\r"
_OPTION_SPECIALS = "\\':"
_GRAPH_SPECIALS = "\\'[],;"


def _backslash_escape(text: str, specials: str) -> str:
    last = len(text) - 1
    return "".join(
        "\\" + ch if ch in specials or (ch in _WHITESPACE and i in (0, last)) else ch for i, ch in enumerate(text)
    )


def escape_value(value: object) -> str:
    """`value` as it must be written inside a filter graph to reach its filter verbatim."""
    return _backslash_escape(_backslash_escape(str(value), _OPTION_SPECIALS), _GRAPH_SPECIALS)


def filter_spec(name: str, *values: object, **options: object) -> str:
    """``name=value:...:key=value:...`` with every value escaped; just ``name`` without any."""
    args = [escape_value(v) for v in values] + [f"{key}={escape_value(v)}" for key, v in options.items()]
    return f"{name}={':'.join(args)}" if args else name


def chain(*filters: str) -> str:
    """Filters applied one after the other (a linear chain)."""
    return ",".join(filters)
