"""The proven-accounts page (add, check again, remove; EN and FR) and what
profiles, things and WebFinger publish of a proven fediverse account
(FEP-0ea0 payment link, rel="me", fediverse:creator)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from claims.models import ProofKind, ProofMethod, ProofStatus, ProvenAccount
from claims.services import creator_profile_url
from tests.claims.test_proofs import JSON, FakeInstance
from tests.factories import ThingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(client):
    user = UserFactory(username="ada")
    client.force_login(user)
    return user


@pytest.fixture
def instance(allow_loopback):
    with FakeInstance() as server:
        yield server


def proven(user, host="social.example", name="ada", status=ProofStatus.ACTIVE):
    return ProvenAccount.objects.create(
        user=user,
        kind=ProofKind.FEDIVERSE,
        host=host,
        username=name,
        profile_url=f"https://{host}/@{name}",
        method=ProofMethod.PROFILE_FIELD,
        status=status,
        proven_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )


def test_the_page_needs_a_login(client):
    response = client.get(reverse("proven_accounts"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_page_says_what_to_put_in_the_profile_and_the_payment_link(client, ada):
    soup = BeautifulSoup(client.get(reverse("proven_accounts")).content, "html.parser")
    assert soup.select_one("#proof-profile-url").get_text() == creator_profile_url(user=ada)
    link = json.loads(soup.select_one("#proof-payment-link").get_text())
    assert (link["type"], link["rel"], link["name"]) == ("Link", "payment", "Flattr")
    assert "user_id=ada" in link["href"]
    assert soup.select_one("#proof-form input[name=handle]") is not None


def test_proving_from_the_page(client, ada, instance):
    thing = ThingFactory(owner=None, url=instance.url("/@ada/42"))
    instance.add("ada", creator_profile_url(user=ada))
    response = client.post(reverse("proven_accounts"), {"handle": instance.url("/@ada")})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "is proven. 1 unclaimed thing of it is now yours" in page
    account = ProvenAccount.objects.get()
    assert f'data-account="{account.handle}"' in page
    thing.refresh_from_db()
    assert thing.owner == ada


@pytest.mark.parametrize(
    "handle,route,expected",
    [
        ("not an address", None, "Enter your fediverse address"),
        ("URL", (200, {"Content-Type": "text/html"}, b"<html></html>"), "does not answer the Mastodon API"),
        ("URL", (200, JSON, b"{oops"), "not a valid account"),
        ("URL", None, "No profile field of"),
    ],
)  # fmt: skip
def test_a_failed_proof_is_a_clear_error_on_the_page(
    client, ada, instance, handle, route, expected
):
    instance.add("ada")
    if route is not None:
        instance.site.routes["/api/v1/accounts/lookup"] = route
    handle = instance.url("/@ada") if handle == "URL" else handle
    response = client.post(reverse("proven_accounts"), {"handle": handle})
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert not ProvenAccount.objects.exists()


def test_the_page_in_french(client, ada, instance):
    instance.add("ada")
    response = client.post(
        reverse("proven_accounts"), {"handle": instance.url("/@ada")}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    page = response.content.decode()
    assert "Prouvez vos comptes ailleurs" in page
    assert "Aucun champ du profil de" in page


def test_check_again_and_remove(client, ada, instance):
    instance.add("ada", creator_profile_url(user=ada))
    client.post(reverse("proven_accounts"), {"handle": instance.url("/@ada")})
    account = ProvenAccount.objects.get()
    instance.add("ada")
    response = client.post(reverse("proven_account_check", args=[account.pk]), follow=True)
    assert "No profile field of" in response.content.decode()
    account.refresh_from_db()
    assert account.status == ProofStatus.FAILED
    response = client.post(reverse("proven_account_remove", args=[account.pk]), follow=True)
    assert "is no longer proven" in response.content.decode()
    account.refresh_from_db()
    assert account.status == ProofStatus.REMOVED
    assert f'data-account="{account.handle}"' not in response.content.decode()


def test_someone_elses_proof_is_not_found(client, ada):
    other = proven(UserFactory(username="bob"), name="bob")
    for name in ("proven_account_check", "proven_account_remove"):
        assert client.post(reverse(name, args=[other.pk])).status_code == 404
    assert client.get(reverse("proven_account_remove", args=[other.pk])).status_code == 405
    other.refresh_from_db()
    assert other.status == ProofStatus.ACTIVE


class TestPublished:
    def test_the_profile_links_the_proven_account_and_its_payment_link(self, client):
        ada = UserFactory(username="ada")
        proven(ada)
        proven(ada, host="old.example", status=ProofStatus.FAILED)
        soup = BeautifulSoup(client.get(ada.get_absolute_url()).content, "html.parser")
        head = soup.head
        assert "user_id=ada" in head.select_one('link[rel="payment"]')["href"]
        assert [link["href"] for link in head.select('link[rel="me"]')] == [
            "https://social.example/@ada"
        ]
        assert head.select_one('meta[name="fediverse:creator"]')["content"] == (
            "@ada@social.example"
        )
        shown = soup.select_one(".verified-links a[href='https://social.example/@ada']")
        assert shown.get_text() == "@ada@social.example" and "me" in shown["rel"]

    def test_a_thing_of_the_creator_carries_the_same(self, client):
        ada = UserFactory(username="ada")
        proven(ada)
        thing = ThingFactory(owner=ada)
        head = BeautifulSoup(client.get(thing.get_absolute_url()).content, "html.parser").head
        assert head.select_one('link[rel="payment"]') is not None
        assert head.select_one('link[rel="me"]')["href"] == "https://social.example/@ada"
        assert head.select_one('meta[name="fediverse:creator"]')["content"] == (
            "@ada@social.example"
        )

    def test_without_a_proven_account_nothing_more_is_published(self, client):
        ada = UserFactory(username="ada")
        proven(ada, status=ProofStatus.REMOVED)
        for url in (ada.get_absolute_url(), ThingFactory(owner=ada).get_absolute_url()):
            head = BeautifulSoup(client.get(url).content, "html.parser").head
            assert head.select_one('link[rel="payment"]') is not None
            assert head.select('link[rel="me"]') == []
            assert head.select_one('meta[name="fediverse:creator"]') is None

    def test_webfinger_lists_the_proven_account(self, client):
        ada = UserFactory(username="ada")
        proven(ada)
        data = json.loads(
            client.get("/.well-known/webfinger", {"resource": "acct:ada@testserver"}).content
        )
        assert {"rel": "me", "href": "https://social.example/@ada"} in data["links"]
        assert any(link["rel"] == "payment" for link in data["links"])
