from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from webapp.core.urls import reverse_one
from webapp.studio import presenters
from webapp.studio.models import GenerationJob
from webapp.studio.presenters import request_notes

register = template.Library()


@register.filter
def differs_from_request(job: GenerationJob) -> list[str]:
    return request_notes(job)


@register.filter
def url_of(value, viewname: str) -> str:
    """{{ clip.poster.name|url_of:"studio:media" }}: {% url viewname value %}, without matching
    the URLconf again for every item of a long list."""
    return reverse_one(viewname, value)


@register.filter
def ago(moment: datetime | None) -> str:
    """ "just now" for the first minute, then "5 minutes ago" (never "0 minutes ago")."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"


@register.filter
def words(slug: str) -> str:
    return presenters.words(slug)


def _readable(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "none"
    if isinstance(value, dict):
        return ", ".join(f"{_key(k)} {_readable(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(_readable(v) for v in value) or "none"
    return str(value)


def _key(key) -> str:
    return str(key).replace("_", " ")


@register.filter
def readable(value) -> str:
    """A stored record (an audit entry's before/after, a model's settings) as words:
    {"hidden": False, "votes_counted": 3} -> "hidden: no · votes counted: 3"."""
    if isinstance(value, dict):
        return " · ".join(f"{_key(k)}: {_readable(v)}" for k, v in value.items())
    return _readable(value)
