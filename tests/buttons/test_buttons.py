import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from buttons import services
from buttons.models import Flattr, Thing
from ledger import services as ledger_services
from ledger.models import AccountKind
from tests.factories import FlattrFactory, ThingFactory, UserFactory


def fund(user, cents=1000):
    ledger_services.transaction_post(
        kind="topup",
        idempotency_key=f"fund:{user.pk}:{cents}",
        legs=[
            (ledger_services.platform_account(kind=AccountKind.OUTSIDE), -cents),
            (ledger_services.wallet_account(user=user), cents),
        ],
    )
    return user


@pytest.fixture
def supporter(db):
    return fund(UserFactory())


def flattr_post(client, thing, **extra):
    return client.post(
        reverse("flattr_confirm", args=[thing.pk]), HTTP_ACCEPT="application/json", **extra
    )


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
        creator = fund(UserFactory())
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
            client.force_login(fund(UserFactory()))
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
    supporter = fund(UserFactory())
    thing = ThingFactory()
    barrier = threading.Barrier(20)
    statuses = []

    def click():
        try:
            client = Client()
            client.force_login(supporter)
            barrier.wait()
            statuses.append(flattr_post(client, thing).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Flattr.objects.filter(thing=thing).count() == 1
    assert sorted(statuses) == [200] + [409] * 19


@pytest.mark.django_db
class TestEmbedAndCounts:
    def test_embed_is_frameable_cacheable_and_escapes(self, client):
        thing = ThingFactory(title='"><script>alert(1)</script>')
        FlattrFactory(thing=thing)
        response = client.get(f"/embed/{thing.pk}/")
        assert response.status_code == 200
        assert "X-Frame-Options" not in response
        assert "frame-ancestors *" in response["Content-Security-Policy"]
        assert "max-age=30" in response["Cache-Control"]
        body = response.content.decode()
        assert "<script>alert(1)</script>" not in body
        assert 'id="count">1<' in body

    def test_count_json_is_cors_open_and_follows_writes(
        self, client, supporter, django_capture_on_commit_callbacks
    ):
        thing = ThingFactory()
        first = client.get(f"/things/{thing.pk}/count.json")
        assert first["Access-Control-Allow-Origin"] == "*"
        assert first.json() == {"thing": thing.pk, "count": 0, "month": 0}
        client.force_login(supporter)
        with django_capture_on_commit_callbacks(execute=True):
            flattr_post(client, thing)
        assert client.get(f"/things/{thing.pk}/count.json").json()["count"] == 1

    def test_badge_svg_escapes_the_title(self, client):
        thing = ThingFactory(title="<svg onload=x>")
        response = client.get(f"/things/{thing.pk}/badge.svg")
        assert response["Content-Type"].startswith("image/svg+xml")
        assert "<svg onload" not in response.content.decode()

    def test_button_js_is_long_cached_with_its_version(self, client):
        from buttons.views import button_js_version

        response = client.get(f"/button.js?v={button_js_version()}")
        assert "immutable" in response["Cache-Control"]
        assert b"flattr-button" in response.content
        assert "max-age=300" in client.get("/button.js")["Cache-Control"]

    def test_snippet_page_has_both_styles(self, client):
        creator = UserFactory()
        thing = ThingFactory(owner=creator)
        client.force_login(creator)
        body = client.get(reverse("thing_button", args=[thing.pk])).content.decode()
        assert f'data-flattr-thing="{thing.pk}"' in body
        assert 'data-flattr-style="compact"' in body
        assert "/button.js?v=" in body


@pytest.mark.django_db
class TestAutoSubmit:
    def test_first_flattr_creates_the_thing(self, client, supporter):
        creator = UserFactory(username="claire")
        client.force_login(supporter)
        url = (
            "/submit/auto?user_id=claire&url=https://claire.example.org/a&title=Hello&category=text"
        )
        page = client.get(url)
        assert page.status_code == 200
        assert "Goes to" in page.content.decode()
        assert not Thing.objects.exists()
        response = client.post(url, HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        thing = Thing.objects.get()
        assert (thing.owner, thing.url, thing.title, thing.category) == (
            creator,
            "https://claire.example.org/a",
            "Hello",
            "text",
        )
        # The same button later finds the same thing.
        assert client.post(url, HTTP_ACCEPT="application/json").json()["error"] == "flattr_once"
        assert Thing.objects.count() == 1

    def test_without_owner_the_thing_is_unclaimed(self, client, supporter):
        client.force_login(supporter)
        client.post(
            "/submit/auto?url=https://podcast.example.org/ep1&title=Ep1",
            HTTP_ACCEPT="application/json",
        )
        thing = Thing.objects.get()
        assert thing.owner is None
        assert Flattr.objects.get().thing == thing

    @pytest.mark.parametrize(
        "query, message",
        [
            ("title=x", "url"),
            ("url=javascript:alert(1)&title=x", "url"),
            ("url=ftp://files.example.org/x&title=x", "url"),
            ("url=https://a.example.org&user_id=nobody", "nobody"),
            ("url=https://a.example.org&category=weird", "category"),
            ("url=https://a.example.org&title=" + "x" * 10_000, "title"),
        ],
    )
    def test_malformed_parameters_are_400_and_record_nothing(
        self, client, supporter, query, message
    ):
        client.force_login(supporter)
        response = client.get("/submit/auto?" + query)
        assert response.status_code == 400
        assert message in response.content.decode()
        response = client.post("/submit/auto?" + query, HTTP_ACCEPT="application/json")
        assert response.status_code == 400
        assert not Thing.objects.exists() and not Flattr.objects.exists()

    def test_embed_auto_shows_existing_count(self, client):
        creator = UserFactory(username="dave")
        thing = ThingFactory(owner=creator, url="https://d.example.org/x")
        FlattrFactory(thing=thing)
        response = client.get("/embed/auto/?owner=dave&url=https://d.example.org/x&title=X")
        assert response.status_code == 200
        assert 'id="count">1<' in response.content.decode()
        assert "frame-ancestors *" in response["Content-Security-Policy"]


@pytest.mark.django_db
class TestCreatorPages:
    def test_create_edit_hide_and_delete(self, client):
        creator = UserFactory()
        client.force_login(creator)
        response = client.post(
            reverse("thing_new"),
            {"url": "https://me.example.org/post", "title": "Post", "category": "text"},
        )
        thing = Thing.objects.get()
        assert response["Location"] == reverse("thing_button", args=[thing.pk])
        client.post(
            reverse("thing_edit", args=[thing.pk]),
            {"url": thing.url, "title": "Renamed", "category": "video"},
        )
        thing.refresh_from_db()
        assert (thing.title, thing.category) == ("Renamed", "video")
        client.post(reverse("thing_toggle_hidden", args=[thing.pk]))
        thing.refresh_from_db()
        assert thing.hidden
        client.post(reverse("thing_delete", args=[thing.pk]))
        assert not Thing.objects.exists()

    def test_a_flattred_thing_is_hidden_not_deleted(self, client):
        creator = UserFactory()
        thing = ThingFactory(owner=creator)
        FlattrFactory(thing=thing)
        client.force_login(creator)
        client.post(reverse("thing_delete", args=[thing.pk]))
        thing.refresh_from_db()
        assert thing.removed and thing.hidden

    @pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x.example.org/a", "not a url"])
    def test_non_http_urls_are_refused(self, client, url):
        client.force_login(UserFactory())
        response = client.post(reverse("thing_new"), {"url": url, "title": "T", "category": "text"})
        assert response.status_code == 400
        assert response.context["form"].errors["url"]
        assert not Thing.objects.exists()

    def test_one_thing_per_owner_and_url(self, client):
        creator = UserFactory()
        ThingFactory(owner=creator, url="https://me.example.org/x")
        client.force_login(creator)
        response = client.post(
            reverse("thing_new"),
            {"url": "https://me.example.org/x", "title": "T", "category": "text"},
        )
        assert response.status_code == 400
        assert Thing.objects.count() == 1

    def test_my_things_shows_counts(self, client):
        creator = UserFactory()
        thing = ThingFactory(owner=creator)
        FlattrFactory(thing=thing)
        FlattrFactory(thing=thing, created_at=dt.datetime(2020, 1, 5, tzinfo=dt.UTC))
        client.force_login(creator)
        page = client.get(reverse("my_things"))
        assert page.context["page"][0].month_count == 1
        assert page.context["page"][0].total_count == 2

    def test_someone_elses_thing_cannot_be_edited(self, client):
        thing = ThingFactory()
        client.force_login(UserFactory())
        assert (
            client.post(reverse("thing_edit", args=[thing.pk]), {"title": "x"}).status_code == 404
        )

    def test_public_pages(self, client):
        creator = UserFactory(username="ana")
        thing = ThingFactory(owner=creator, title="Visible", category="audio")
        ThingFactory(owner=creator, title="Secret", hidden=True)
        FlattrFactory(thing=thing)
        assert "Visible" in client.get("/u/ana/").content.decode()
        assert "Secret" not in client.get("/u/ana/").content.decode()
        explore = client.get("/explore/?category=audio").content.decode()
        assert "Visible" in explore and "Secret" not in explore
        assert "Visible" not in client.get("/explore/?category=video").content.decode()
        assert "Visible" in client.get(thing.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_editing_a_thing_refreshes_its_cached_embed(client, django_capture_on_commit_callbacks):
    creator = UserFactory()
    thing = ThingFactory(owner=creator, title="Old title")
    assert "Old title" in client.get(f"/embed/{thing.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.thing_update(thing=thing, title="New title")
    assert "New title" in client.get(f"/embed/{thing.pk}/").content.decode()
