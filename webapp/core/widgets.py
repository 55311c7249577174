"""Form widgets that write their HTML in Python instead of rendering Django's widget templates.

The gallery's filter form sits on every gallery page; rendering its seven widgets through the
template engine (one template per widget and one per <option>, each with its own context) was
about a fifth of the page's CPU. These widgets keep Django's `get_context` (attributes, the
selected options, value formatting) and write the same markup as Django's templates
(django/forms/widgets/input.html, attrs.html, select.html, select_option.html; optgroups are
not supported), so the page's HTML does not change. tests/unit/test_fast_widgets.py holds the
output equal to Django's own rendering."""

from __future__ import annotations

from django import forms
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe


def _text(value) -> str:
    """{{ value|stringformat:'s' }} under autoescape (stringformat's result is never safe)."""
    return escape(str(value))


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: True is a bare attribute, False is left out."""
    return "".join(
        f" {conditional_escape(name)}" + ("" if value is True else f'="{_text(value)}"')
        for name, value in attrs.items()
        if value is not False
    )


class PythonRenderedInput:
    """Mixin for forms.Input subclasses: input.html written in Python."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        value_attr = "" if widget["value"] is None else f' value="{_text(widget["value"])}"'
        return mark_safe(
            f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value_attr}{_attrs(widget["attrs"])}>'
        )


class TextInput(PythonRenderedInput, forms.TextInput):
    pass


class DateInput(PythonRenderedInput, forms.DateInput):
    pass


class Select(forms.Select):
    """select.html and select_option.html written in Python (choices without groups)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options: list[str] = []
        for group_name, group_choices, _ in widget["optgroups"]:
            if group_name:
                raise ValueError("Select renders flat choices only (no optgroups)")
            options.extend(
                f'\n  <option value="{_text(option["value"])}"{_attrs(option["attrs"])}>'
                f"{conditional_escape(option['label'])}</option>\n"  # select_option.html's own newline
                for option in group_choices
            )
        return mark_safe(
            f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>{"".join(options)}\n</select>'
        )


__all__ = ["TextInput", "DateInput", "Select"]
