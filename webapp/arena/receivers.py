"""What the arena does when the studio announces something (connected in apps.ready)."""

from django.dispatch import receiver

from webapp.studio.signals import named_results_viewed

from .services.voters import record_named_view


@receiver(named_results_viewed, dispatch_uid="arena-named-view")
def remember_named_view(sender, request, prompts, **kwargs) -> None:
    record_named_view(request, prompts)
