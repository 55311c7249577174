"""What moderation does when other parts of the site announce something (connected in
apps.ModerationConfig.ready)."""

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from webapp.studio.signals import prompt_screened

from . import audit, login_throttle


@receiver(prompt_screened, dispatch_uid="moderation-audit-screening")
def audit_screening(sender, verdict, prompt, fields, source, **kwargs) -> None:
    audit.record_screening(verdict, prompt, fields, source)


@receiver(user_login_failed, dispatch_uid="moderation-count-login-failure")
def count_login_failure(sender, credentials, request=None, **kwargs) -> None:
    login_throttle.record_failure(request, credentials.get("username"))
