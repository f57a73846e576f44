"""A creator claims a site in the browser through a meta tag on a local test
site, and the money held for it reaches them at the next run."""

import datetime as dt

import pytest

from buttons.models import Thing
from ledger.models import AccountKind
from payouts import services as payouts
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, UserFactory, balance, flattr, supporter
from tests.localsite import LocalSite

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def run_month(period, staff):
    run = payouts.payout_run_compute(period=period)
    payouts.payout_run_approve(run=run, actor=staff, queue=False)
    payouts.payout_run_post(run_id=run.pk)


def test_a_creator_claims_a_site_by_meta_tag_and_is_paid_next_run(
    browser_context, platform_url, settings
):
    settings.FETCH_ALLOWED_HOSTS, settings.FETCH_ALLOWED_NETWORKS = [], ["127.0.0.0/8"]
    staff = UserFactory(is_staff=True, is_superuser=True)
    creator = UserFactory(username="ada", email="ada@example.org")
    with LocalSite() as site:
        orphan = Thing.objects.create(url=site.url("/2019/old-post"), title="Old post")
        flattr(supporter(budget=400, balance=5000), orphan, dt.date(2026, 5, 1))
        run_month(dt.date(2026, 5, 1), staff)

        page = browser_context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        log_in(page, platform_url, creator.email, PASSWORD)
        page.goto(f"{platform_url}/unclaimed/")
        assert f"127.0.0.1:{site.port}" in page.inner_text("#unclaimed")

        page.goto(f"{platform_url}/claims/")
        page.select_option("select[name=kind]", "site")
        page.fill("input[name=url]", site.url("/"))
        page.select_option("select[name=method]", "meta")
        page.click("#claim-form button[type=submit]")
        token = page.inner_text("#claim-token").strip()
        snippet = page.inner_text("#proof-snippet")
        assert token in snippet

        # First without the tag: the exact reason, nothing assigned.
        site.routes["/"] = (200, {"Content-Type": "text/html"}, b"<html><head></head></html>")
        page.click("#claim-check")
        page.wait_for_selector("[data-state=failed]")
        assert "flattr:verification" in page.inner_text("#claim-reason")
        orphan.refresh_from_db()
        assert orphan.owner is None

        # The creator pastes the tag the page showed; checking verifies.
        site.routes["/"] = (
            200, {"Content-Type": "text/html"}, f"<html><head>{snippet}</head></html>".encode()
        )  # fmt: skip
        page.click("#claim-check")
        page.wait_for_selector("[data-state=verified]")
        assert "1 unclaimed thing is now yours" in page.content()

    orphan.refresh_from_db()
    assert orphan.owner == creator
    run_month(dt.date(2026, 6, 1), staff)
    assert balance(creator, AccountKind.EARNINGS) == 360  # 4.00 less the 10% fee
    page.goto(f"{platform_url}/earnings/")
    assert "3.60" in page.content()
    page.goto(f"{platform_url}/u/ada/")
    assert page.locator("a[rel~=me]").count() == 1
    assert errors == []
