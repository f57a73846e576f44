"""A real SMTP server on localhost (aiosmtpd) that keeps what it receives."""

import email
import email.policy
import socket

import environ
import pytest
from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse_next = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_next:
            self.refuse_next -= 1
            return "451 4.3.0 try again later"
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_inbox(settings):
    """Point EMAIL_URL-derived settings at a local aiosmtpd server."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    config = environ.Env.email_url_config(f"smtp://127.0.0.1:{port}")
    settings.EMAIL_BACKEND = config["EMAIL_BACKEND"]
    settings.EMAIL_HOST = config["EMAIL_HOST"]
    settings.EMAIL_PORT = config["EMAIL_PORT"]
    settings.EMAIL_HOST_USER = config["EMAIL_HOST_USER"] or ""
    settings.EMAIL_HOST_PASSWORD = config["EMAIL_HOST_PASSWORD"] or ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()


def body_of(message, subtype: str) -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()
