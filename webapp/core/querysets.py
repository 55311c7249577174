"""QuerySet behaviour shared by models reached through an opaque public id in a URL."""

from __future__ import annotations

from django.db import models
from django.http import Http404


class PublicIdQuerySet(models.QuerySet):
    def get_or_404(self, public_id: str):
        """The row with this public id among this queryset's rows, else Http404. Which rows a
        visitor may reach is the queryset's business (e.g. `Prompt.objects.public()`)."""
        obj = self.filter(public_id=public_id).first()
        if obj is None:
            raise Http404(f"no such {self.model._meta.verbose_name}")
        return obj
