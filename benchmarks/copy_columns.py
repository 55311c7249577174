"""COPY text for the columns a bulk-loading benchmark does not vary: from the model's fields, so a
benchmark keeps working when a column with a default is added (benchmarks/ratings.py,
benchmarks/style_control.py)."""

from __future__ import annotations


def copy_text(model, varying: list[str], fixed: dict) -> tuple[str, str]:
    """Column list and the constant tail of each COPY line for ``model``'s table: ``fixed``
    values, else the field's default, else NULL, else '' for a blank-able text column."""
    tail = {}
    for field in model._meta.concrete_fields:
        column = field.column
        if field.primary_key or column in varying:
            continue
        if column in fixed:
            value = fixed[column]
        elif field.has_default():
            value = field.get_default()
            value = value if isinstance(value, bool | int | float | str) else "{}" if value == {} else value
        elif field.null:
            value = None
        elif field.blank:
            value = ""
        else:
            raise RuntimeError(f"benchmark does not know what to put in {model._meta.db_table}.{column}")
        tail[column] = "\\N" if value is None else ("t" if value is True else "f" if value is False else str(value))
    columns = ", ".join(f'"{c}"' for c in varying + list(tail))
    return columns, "".join(f"\t{v}" for v in tail.values())
