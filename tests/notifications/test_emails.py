import smtplib

import pytest

from notifications import emails
from notifications.models import Email, EmailStatus, Event, NotificationSettings
from tests.factories import UserFactory
from tests.notifications.conftest import body_of

pytestmark = pytest.mark.django_db

RECEIPT = {"topup_id": 7, "gross_cents": 1000, "fee_cents": 40, "net_cents": 960}


def _email(user, type="topup.succeeded", data=None, key="k") -> Email:
    event = Event.objects.create(type=type, recipient=user, data=data or RECEIPT, key=key)
    return Email.objects.create(event=event)


def test_receipt_arrives_by_real_smtp_with_unsubscribe_headers(smtp_inbox):
    user = UserFactory()
    email = _email(user)
    assert emails.email_send(email_id=email.pk) == EmailStatus.SENT
    [message] = smtp_inbox.messages
    assert message["To"] == user.email
    assert message["From"] == "Open Flattr <noreply@localhost>"
    assert "10.00" in message["Subject"]
    text = body_of(message, "plain")
    assert "10.00\xa0€" in text and "0.40\xa0€" in text and "9.60\xa0€" in text
    assert "9.60\xa0€" in body_of(message, "html")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = "".join(str(message["List-Unsubscribe"]).split()).strip("<>")
    assert "/notifications/unsubscribe/" in url and url in text


def test_email_is_written_in_the_recipients_language(smtp_inbox):
    user = UserFactory()
    NotificationSettings.objects.create(user=user, language="fr")
    emails.email_send(email_id=_email(user).pk)
    [message] = smtp_inbox.messages
    assert message["Subject"] == "Reçu : votre rechargement de 10,00 €"
    assert "Ajouté à votre porte-monnaie" in body_of(message, "plain")
    assert "9,60\xa0€" in body_of(message, "html")


def test_smtp_refusal_is_retried_and_the_email_goes_out_once(smtp_inbox):
    user = UserFactory()
    email = _email(user)
    smtp_inbox.refuse_next = 1
    with pytest.raises(smtplib.SMTPException):
        emails.email_send(email_id=email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.PENDING and "451" in email.last_error
    assert emails.email_send(email_id=email.pk) == EmailStatus.SENT
    assert emails.email_send(email_id=email.pk) == EmailStatus.SENT
    assert len(smtp_inbox.messages) == 1
    email.refresh_from_db()
    assert email.attempts == 2


def test_an_email_claimed_by_a_crashed_worker_is_never_sent_again(smtp_inbox):
    user = UserFactory()
    email = _email(user)
    Email.objects.filter(pk=email.pk).update(status=EmailStatus.SENDING)
    assert emails.email_send(email_id=email.pk) == EmailStatus.SENDING
    assert smtp_inbox.messages == []


def test_the_last_failed_try_marks_the_email_failed(smtp_inbox):
    email = _email(UserFactory())
    smtp_inbox.refuse_next = 1
    with pytest.raises(smtplib.SMTPException):
        emails.email_send(email_id=email.pk, last_try=True)
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED


def test_sender_is_the_platform_name_even_when_the_setting_has_none(settings):
    settings.DEFAULT_FROM_EMAIL = "robot@flattr.example"
    assert emails.sender() == "Open Flattr <robot@flattr.example>"


@pytest.mark.parametrize(
    "type,data",
    [
        ("wallet.low", {"balance_cents": 50, "budget_cents": 200, "wallet_path": "/wallet/"}),
        (
            "statement.supporter",
            {
                "period": "2026-10",
                "taken_cents": 200,
                "flattrs": 2,
                "held_cents": 100,
                "held_months": 6,
                "months_path": "/months/",
                "shares": [
                    {
                        "title": "Song",
                        "url": "https://a.example/",
                        "amount_cents": 100,
                        "held": False,
                        "fee_cents": 10,
                    },
                    {
                        "title": "Post",
                        "url": "https://b.example/",
                        "amount_cents": 100,
                        "held": True,
                        "fee_cents": 0,
                    },
                ],
            },
        ),
        (
            "payout.posted",
            {
                "period": "2026-10",
                "gross_cents": 300,
                "fee_cents": 30,
                "net_cents": 270,
                "fee_percent": 10,
                "flattrs": 3,
                "earnings_path": "/earnings/",
                "things": [
                    {"title": "Song", "url": "https://a.example/", "flattrs": 3, "gross_cents": 300}
                ],
            },
        ),
        ("withdrawal.paid", {"withdrawal_id": 3, "amount_cents": 2500, "reason": ""}),
        (
            "withdrawal.failed",
            {"withdrawal_id": 3, "amount_cents": 2500, "reason": "closed account"},
        ),
        ("subscription.skipped", {"title": "Song", "period": "2026-11"}),
        ("digest", {"things": [{"title": "Song", "flattrs": 2, "subscribers": 1}], "total": 3}),
        ("webhook.disabled", {"url": "https://hooks.example/", "webhooks_path": "/webhooks/"}),
    ],
)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_kind_renders_in_both_languages(type, data, language):
    user = UserFactory()
    NotificationSettings.objects.create(user=user, language=language)
    message = emails.email_render(email=_email(user, type=type, data=data))
    assert message.subject and "{" not in message.subject
    html = message.alternatives[0][0]
    assert "{%" not in message.body and "{%" not in html
    if language == "fr":
        assert "Bonjour" in message.body
