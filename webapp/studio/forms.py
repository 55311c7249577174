from django import forms
from django.conf import settings

from webapp.catalog import capabilities
from webapp.catalog.models import VideoModel
from webapp.catalog.sizes import ASPECT_RATIOS

from .services.submission import DEFAULT_DURATION_S


class PromptForm(forms.Form):
    """Only shapes the inputs; every rule is checked by services.submission so the web form
    and the API cannot disagree."""

    text = forms.CharField(
        label="Prompt",
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": "A red fox running through fresh snow at golden hour",
                "maxlength": settings.PROMPT_MAX_CHARS,
            }
        ),
        help_text=f"Up to {settings.PROMPT_MAX_CHARS} characters.",
    )
    models = forms.MultipleChoiceField(label="Models", required=False, widget=forms.CheckboxSelectMultiple)
    duration_s = forms.CharField(
        label="Duration (seconds)",
        required=False,
        initial=str(int(DEFAULT_DURATION_S)),
        widget=forms.NumberInput(attrs={"min": 1, "max": 20, "step": 1}),
    )
    aspect_ratio = forms.ChoiceField(label="Aspect ratio", choices=[(a, a) for a in ASPECT_RATIOS], initial="16:9")
    seed = forms.CharField(
        label="Seed (optional)", required=False, widget=forms.NumberInput(attrs={"min": 0, "placeholder": "random"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        enabled = list(VideoModel.objects.filter(enabled=True))
        models = self.fields["models"]
        assert isinstance(models, forms.MultipleChoiceField)
        # what each model takes, beside its name, so people choose knowing what each can make
        models.choices = [(m.slug, f"{m.label} ({capabilities.summary(m)})") for m in enabled]
        models.initial = [m.slug for m in enabled]
