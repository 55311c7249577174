from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from webapp.studio.models import GenerationJob
from webapp.studio.presenters import request_notes

register = template.Library()


@register.filter
def differs_from_request(job: GenerationJob) -> list[str]:
    return request_notes(job)


@register.filter
def ago(moment: datetime | None) -> str:
    """ "just now" for the first minute, then "5 minutes ago" (never "0 minutes ago")."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"
