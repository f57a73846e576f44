"""E-mails: rendered from templates in the recipient's language, sent once.

Sending is claimed in one short transaction (pending -> sending), the SMTP
call happens outside any transaction, and the outcome is recorded in a
second one. An SMTP error puts the e-mail back to pending for the task to
retry; a crash after the SMTP server took the message leaves it "sending",
which is never sent again (at most once beats twice for a statement).
"""

from __future__ import annotations

import smtplib
from email.utils import formataddr, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from notifications.models import (
    OPTIONAL_EMAIL_TYPES,
    Email,
    EmailStatus,
    EventType,
    NotificationSettings,
)
from notifications.services import unsubscribe_token

PLATFORM_NAME = "Open Flattr"
# Errors worth retrying: the SMTP server or the network said no for now.
RETRYABLE = (smtplib.SMTPException, OSError)


def sender() -> str:
    """The platform's name and address, whatever DEFAULT_FROM_EMAIL holds."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((name or PLATFORM_NAME, address or "noreply@localhost"))


def site_url(path: str) -> str:
    return settings.SITE_URL + path


def email_render(*, email: Email) -> EmailMultiAlternatives:
    event = email.event
    user = event.recipient
    prefs = NotificationSettings.objects.filter(user=user).first()
    language = prefs.language if prefs else settings.LANGUAGE_CODE
    name = event.type.replace(".", "_")
    unsubscribe = ""
    if event.type in OPTIONAL_EMAIL_TYPES:
        token = unsubscribe_token(user_id=user.pk, type=event.type)
        unsubscribe = site_url(reverse("notification_unsubscribe", args=[token]))
    with translation.override(language):
        context = {
            "user": user,
            "name": user.display_name or user.username,
            "data": event.data,
            "site_url": settings.SITE_URL,
            "settings_url": site_url(reverse("notification_settings")),
            "unsubscribe_url": unsubscribe,
            "kind": EventType(event.type).label,
            "platform": PLATFORM_NAME,
        }
        subject = " ".join(
            render_to_string(f"notifications/email/{name}_subject.txt", context).split()
        )
        text = render_to_string(f"notifications/email/{name}.txt", context)
        html = render_to_string(f"notifications/email/{name}.html", context)
    # One Message-ID per event: a resend (never expected) is the same message.
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    headers = {"Message-ID": f"<{event.pk}@{host}>"}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=sender(), to=[user.email], headers=headers
    )
    message.attach_alternative(html, "text/html")
    return message


def _claim(email_id: int) -> Email | None:
    with transaction.atomic():
        email = (
            Email.objects.select_for_update()
            .select_related("event__recipient")
            .filter(pk=email_id)
            .first()
        )
        if email is None or email.status != EmailStatus.PENDING:
            return None
        prefs = NotificationSettings.objects.filter(user=email.event.recipient).first()
        if prefs and email.event.type in prefs.muted and email.event.type in OPTIONAL_EMAIL_TYPES:
            email.status = EmailStatus.SKIPPED
            email.save(update_fields=["status"])
            return None
        email.status = EmailStatus.SENDING
        email.attempts += 1
        email.claimed_at = timezone.now()
        email.to = email.event.recipient.email
        email.save(update_fields=["status", "attempts", "claimed_at", "to"])
        return email


def email_send(*, email_id: int, last_try: bool = False) -> str:
    """Send one e-mail once. Returns its status; raises a RETRYABLE error
    (the e-mail back to pending) when the task should try again later."""
    email = _claim(email_id)
    if email is None:
        return Email.objects.filter(pk=email_id).values_list("status", flat=True).first() or ""
    message = email_render(email=email)
    try:
        message.send(fail_silently=False)
    except RETRYABLE as exc:
        status = EmailStatus.FAILED if last_try else EmailStatus.PENDING
        Email.objects.filter(pk=email.pk).update(
            status=status, last_error=f"{type(exc).__name__}: {exc}"[:500]
        )
        raise
    Email.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), subject=message.subject[:300]
    )
    return EmailStatus.SENT
