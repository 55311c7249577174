"""Reporting from any page: other apps' templates render moderation's report form through these
tags, so their views need not know moderation's models."""

from django import template

from ..models import Report

register = template.Library()


@register.inclusion_tag("moderation/_report_form.html", takes_context=True)
def report_form(context, kind: str, public_id: str, label: str = "this"):
    return {
        "csrf_token": context.get("csrf_token"),
        "report_kind": kind,
        "report_id": public_id,
        "report_label": label,
        "reasons": Report.Reason.choices,
    }


@register.simple_tag
def report_reasons():
    return Report.Reason.choices
