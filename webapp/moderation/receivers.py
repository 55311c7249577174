"""What moderation does when other parts of the site announce something (connected in
apps.ModerationConfig.ready)."""

from django.dispatch import receiver

from webapp.studio.signals import prompt_screened

from . import audit


@receiver(prompt_screened, dispatch_uid="moderation-audit-screening")
def audit_screening(sender, verdict, prompt, fields, source, **kwargs) -> None:
    audit.record_screening(verdict, prompt, fields, source)
