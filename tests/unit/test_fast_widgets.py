"""The gallery filter form's Python-rendered widgets (webapp/core/widgets.py) write exactly the
HTML Django's widget templates write, in every state the form is shown in."""

import pytest
from django import forms

from webapp.core import widgets
from webapp.gallery.forms import GalleryFilterForm

pytestmark = pytest.mark.django_db

TEMPLATE_WIDGETS = {
    widgets.TextInput: forms.TextInput,
    widgets.DateInput: forms.DateInput,
    widgets.Select: forms.Select,
}


def _as_django_renders_it(form: forms.Form) -> forms.Form:
    """The same form with each fast widget swapped for the Django widget it stands in for."""
    for field in form.fields.values():
        fast = field.widget
        django_widget = TEMPLATE_WIDGETS[type(fast)].__new__(TEMPLATE_WIDGETS[type(fast)])
        django_widget.__dict__.update(fast.__dict__)
        field.widget = django_widget
    return form


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"q": "fox \"<b>&'", "model": "FIRST_MODEL", "category": "animals", "status": "complete", "sort": "oldest"},
        {"since": "2024-05-02", "until": "2024-05-01", "model": "no-such-model"},  # errors: aria-invalid
        {"since": "not a date", "q": "x" * 300},
    ],
)
def test_fast_widgets_write_what_django_templates_write(demo_models, data):
    from webapp.studio.models import Prompt

    Prompt.objects.create(text="t", seed=1, duration_s=2, aspect_ratio="16:9", category='a"<&>')
    if data and data.get("model") == "FIRST_MODEL":
        data = {**data, "model": demo_models[0].slug}
    fast, slow = GalleryFilterForm(data), _as_django_renders_it(GalleryFilterForm(data))
    if data:
        fast.is_valid(), slow.is_valid()
    assert all(type(field.widget).__module__.startswith("django.") for field in slow.fields.values())
    for name in fast.fields:
        assert str(fast[name]) == str(slow[name]), name
    if data and "status" in data:
        assert "selected" in str(fast["status"]) and "selected" in str(fast["model"])


def test_select_refuses_option_groups():
    field = forms.ChoiceField(choices=[("Group", [("a", "A")])], widget=widgets.Select)
    with pytest.raises(ValueError, match="optgroups"):
        field.widget.render("x", "a")
