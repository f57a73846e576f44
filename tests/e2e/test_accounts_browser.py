"""Sign-up, e-mail verification and login in a real browser."""

import re

import pytest
from django.core import mail

from tests.e2e.conftest import log_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_up_verify_and_log_in_on_a_phone(chromium, live_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=email]", "browser@example.org")
    page.fill("input[name=username]", "browser")
    page.fill("input[name=password1]", "a-long-unusual-passphrase")
    page.fill("input[name=password2]", "a-long-unusual-passphrase")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/confirm-email/$"))
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body).group(
        1
    )
    page.goto(f"{live_server.url}{link}")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/$"))
    assert "Hello, browser" in page.content()

    log_out(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "browser@example.org")
    page.fill("input[name=password]", "a-long-unusual-passphrase")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/$"))
    # The budget form speaks French after switching language.
    page.select_option("#language-select", "fr")
    page.click(".lang-switch button")
    page.goto(f"{live_server.url}/settings/")
    assert "Budget mensuel" in page.content()
    context.close()
