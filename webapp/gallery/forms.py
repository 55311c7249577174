from django import forms
from django.db.models import Exists, OuterRef, Q

from webapp.catalog.models import VideoModel
from webapp.core.widgets import DateInput, Select, TextInput
from webapp.studio.models import Clip
from webapp.studio.presenters import words

from .services.search import SORTS, STATUSES, GalleryQuery, categories


def _model_choices() -> list[tuple[str, str]]:
    """Models a visitor may find clips of: enabled ones, and disabled ones that left clips.
    EXISTS per model, not a join: the join with DISTINCT read every job and clip (30 s per
    gallery page at 8 million jobs); an enabled model never reaches the EXISTS."""
    left_clips = Exists(Clip.objects.filter(job__model=OuterRef("pk")))
    listed = VideoModel.objects.filter(Q(enabled=True) | left_clips)
    return [("", "Any model"), *listed.order_by("display_name").values_list("slug", "display_name")]


def _category_choices() -> list[tuple[str, str]]:
    return [("", "Any category"), *((c, words(c)) for c in categories())]


class GalleryFilterForm(forms.Form):
    q = forms.CharField(
        label="Search prompts",
        required=False,
        max_length=200,
        widget=TextInput(attrs={"type": "search", "placeholder": "e.g. fox"}),
    )
    model = forms.ChoiceField(label="Model", required=False, widget=Select)
    category = forms.ChoiceField(label="Category", required=False, widget=Select)
    status = forms.ChoiceField(
        label="Status", required=False, widget=Select, choices=[("", "Any status"), *STATUSES.items()]
    )
    since = forms.DateField(label="From", required=False, widget=DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(
        label="Sort", required=False, widget=Select, choices=[(key, key.capitalize() + " first") for key in SORTS]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read once per form (a callable would be read again at every iteration of the choices).
        for name, choices in (("model", _model_choices()), ("category", _category_choices())):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices

    def clean(self):
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("“From” must be on or before “To”.", code="date_order")
        return data

    def query(self) -> GalleryQuery:
        data = self.cleaned_data
        return GalleryQuery(
            text=data.get("q") or "",
            model=data.get("model") or "",
            category=data.get("category") or "",
            status=data.get("status") or "",
            since=data.get("since"),
            until=data.get("until"),
            sort=data.get("sort") or "newest",
        )
