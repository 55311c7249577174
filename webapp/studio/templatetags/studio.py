from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from webapp.core.urls import reverse_one
from webapp.studio import presenters
from webapp.studio.models import GenerationJob, JobState, Prompt
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


_HIDDEN_POSTER = '<span class="poster-placeholder state-hidden">Hidden by moderators</span>'


@register.filter
def posters(prompt: Prompt) -> SafeString:
    """{{ prompt|posters }}: a poster (or a placeholder saying why there is none) per prepared
    job, in Python with the markup the template loop had: the loop, 8 jobs by 12 prompts, was
    the largest part of a gallery page's template CPU at a million prompts."""
    return format_html_join("\n", "{}", ((_poster(job),) for job in prompt.jobs.all()))


def _poster(job: GenerationJob) -> SafeString:
    if job.state == JobState.SUCCEEDED and job.clip.hidden:
        return SafeString(_HIDDEN_POSTER)
    if job.state == JobState.SUCCEEDED:
        return format_html('<img src="{}" alt="" loading="lazy">', reverse_one("studio:media", job.clip.poster.name))
    return format_html('<span class="poster-placeholder state-{}">{}</span>', job.state, job.get_state_display())


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
