"""The language of e-mails follows the one a person used when they first
logged in; the Notifications page changes it."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation

from notifications.services import notification_language_remember


@receiver(user_logged_in, dispatch_uid="notifications.remember_language")
def remember_language(sender, request, user, **kwargs) -> None:
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language() or "en"
    notification_language_remember(user=user, language=language[:2])
