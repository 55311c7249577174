from django import template

from webapp.studio.models import GenerationJob
from webapp.studio.presenters import request_notes

register = template.Library()


@register.filter
def differs_from_request(job: GenerationJob) -> list[str]:
    return request_notes(job)
