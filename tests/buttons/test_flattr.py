"""Flattring a thing: the monthly rules, refusals, rate limits and the confirm page."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from buttons import services
from buttons.models import Flattr
from ledger import services as ledger_services
from ledger.models import AccountKind
from tests.buttons.helpers import flattr_post
from tests.concurrency import at_once
from tests.factories import ThingFactory, UserFactory, fund


@pytest.mark.django_db
class TestFlattrRules:
    def test_flattr_is_recorded_in_the_current_month(self, client, supporter):
        thing = ThingFactory()
        client.force_login(supporter)
        response = flattr_post(client, thing)
        assert response.status_code == 200
        assert response.json() == {"ok": True, "thing": thing.pk, "count": 1}
        flattr = Flattr.objects.get()
        assert flattr.period == services.current_period()
        assert flattr.period.day == 1

    def test_second_flattr_in_a_month_is_flattr_once(self, client, supporter):
        thing = ThingFactory()
        client.force_login(supporter)
        flattr_post(client, thing)
        response = flattr_post(client, thing)
        assert response.status_code == 409
        assert response.json()["error"] == "flattr_once"
        assert "already flattred this thing this month" in response.json()["message"]
        assert Flattr.objects.count() == 1

    def test_next_month_counts_again(self, supporter):
        thing = ThingFactory()
        now = dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.UTC)
        services.flattr_create(supporter=supporter, thing=thing, now=now)
        services.flattr_create(supporter=supporter, thing=thing, now=now + dt.timedelta(hours=1))
        assert sorted(Flattr.objects.values_list("period", flat=True)) == [
            dt.date(2026, 10, 1),
            dt.date(2026, 11, 1),
        ]

    def test_period_follows_the_payout_timezone(self, supporter, settings):
        settings.PAYOUT_TIMEZONE = "Europe/Paris"
        thing = ThingFactory()
        # 23:30 UTC on 31 October is already November in Paris.
        flattr = services.flattr_create(
            supporter=supporter, thing=thing, now=dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.UTC)
        )
        assert flattr.period == dt.date(2026, 11, 1)

    def test_own_thing_is_flattr_owner(self, client):
        creator = UserFactory(wallet_cents=1000)
        thing = ThingFactory(owner=creator)
        client.force_login(creator)
        response = flattr_post(client, thing)
        assert response.status_code == 403
        assert response.json()["error"] == "flattr_owner"
        assert not Flattr.objects.exists()

    def test_empty_wallet_is_no_means(self, client):
        thing = ThingFactory()
        client.force_login(UserFactory())
        response = flattr_post(client, thing)
        assert response.status_code == 402
        assert response.json()["error"] == "no_means"
        assert not Flattr.objects.exists()

    def test_a_supporter_who_owes_money_cannot_flattr(self, client, supporter):
        wallet = ledger_services.wallet_account(user=supporter)
        receivable = ledger_services.account_get(kind=AccountKind.RECEIVABLE, user=supporter)
        ledger_services.transaction_post(
            kind="topup_reversal",
            idempotency_key="owe",
            legs=[
                (wallet, -1000),
                (receivable, -300),
                (ledger_services.platform_account(kind=AccountKind.OUTSIDE), 1300),
            ],
        )
        fund(supporter, 500)
        client.force_login(supporter)
        response = flattr_post(client, ThingFactory())
        assert response.status_code == 402
        assert response.json()["error"] == "owes_balance"
        assert not Flattr.objects.exists()

    @pytest.mark.parametrize("field", ["hidden", "removed"])
    def test_hidden_or_removed_things_cannot_be_flattred(self, client, supporter, field):
        thing = ThingFactory(**{field: True})
        client.force_login(supporter)
        response = flattr_post(client, thing)
        assert response.status_code == 404
        assert not Flattr.objects.exists()

    def test_logged_out_post_is_401_and_records_nothing(self, client):
        thing = ThingFactory()
        response = client.post(reverse("flattr_confirm", args=[thing.pk]))
        assert response.status_code == 401
        assert "Log in to flattr" in response.content.decode()
        assert not Flattr.objects.exists()

    def test_post_without_csrf_token_is_refused(self, supporter):
        thing = ThingFactory()
        client = Client(enforce_csrf_checks=True)
        client.force_login(supporter)
        response = client.post(reverse("flattr_confirm", args=[thing.pk]))
        assert response.status_code == 403
        assert not Flattr.objects.exists()

    def test_unknown_thing_is_404(self, client, supporter):
        client.force_login(supporter)
        assert client.get("/things/999999/flattr/").status_code == 404
        assert client.get("/things/999999/").status_code == 404
        assert client.get("/embed/999999/").status_code == 404
        assert client.get("/things/999999/count.json").status_code == 404

    def test_rate_limit_per_user_is_429(self, client, supporter, settings):
        settings.FLATTR_CLICK_RATE_PER_USER = "3/h"
        client.force_login(supporter)
        statuses = [flattr_post(client, ThingFactory()).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert Flattr.objects.count() == 3

    def test_rate_limit_per_ip_is_429(self, settings):
        settings.FLATTR_CLICK_RATE_PER_IP = "2/h"
        statuses = []
        for _ in range(3):
            client = Client()
            client.force_login(UserFactory(wallet_cents=1000))
            statuses.append(flattr_post(client, ThingFactory()).status_code)
        assert statuses == [200, 200, 429]

    def test_html_flow_confirms_and_redirects_to_the_thing(self, client, supporter):
        thing = ThingFactory(title="Nice <b>post</b>")
        client.force_login(supporter)
        page = client.get(reverse("flattr_confirm", args=[thing.pk]))
        assert page.status_code == 200
        body = page.content.decode()
        assert "Nice &lt;b&gt;post&lt;/b&gt;" in body
        assert "Flattr this" in body
        response = client.post(reverse("flattr_confirm", args=[thing.pk]), follow=True)
        assert "Thank you" in response.content.decode()

    def test_popup_post_reports_the_count_to_its_opener(self, client, supporter):
        thing = ThingFactory()
        client.force_login(supporter)
        response = client.post(reverse("flattr_confirm", args=[thing.pk]), {"popup": "1"})
        body = response.content.decode()
        assert "postMessage(message, window.location.origin)" in body
        assert response["Cross-Origin-Opener-Policy"] == "unsafe-none"

    def test_confirm_page_cannot_be_framed(self, client, supporter):
        client.force_login(supporter)
        response = client.get(reverse("flattr_confirm", args=[ThingFactory().pk]))
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]

    def test_logged_out_confirm_page_asks_to_log_in_and_comes_back(self, client):
        thing = ThingFactory()
        response = client.get(reverse("flattr_confirm", args=[thing.pk]) + "?popup=1")
        assert response.status_code == 302
        assert "/accounts/login/?next=/things/" in response["Location"]


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_make_one_flattr():
    supporter = UserFactory(wallet_cents=1000)
    thing = ThingFactory()
    clients = [Client() for _ in range(20)]
    for client in clients:
        client.force_login(supporter)
    statuses = at_once(20, lambda i: flattr_post(clients[i], thing).status_code)
    assert Flattr.objects.filter(thing=thing).count() == 1
    assert sorted(statuses) == [200] + [409] * 19
