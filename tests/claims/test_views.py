"""Claim pages, the public /unclaimed/ list and verified links on profiles."""

import datetime as dt

import pytest
from django.urls import reverse

from claims.models import Claim, ClaimState
from tests.factories import ThingFactory, UserFactory, flattr, supporter
from tests.localsite import LocalSite

pytestmark = pytest.mark.django_db


@pytest.fixture
def creator(client):
    user = UserFactory(username="ada")
    client.force_login(user)
    return user


def test_claims_need_a_login(client):
    response = client.get(reverse("claims"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_token_is_shown_once(client, creator):
    response = client.post(
        reverse("claims"), {"kind": "site", "url": "https://ada.example/", "method": "meta"}
    )
    claim = Claim.objects.get()
    assert response["Location"] == claim.get_absolute_url()
    first = client.get(claim.get_absolute_url()).content.decode()
    token = first.split('<pre id="claim-token">')[1].split("</pre>")[0]
    assert token.startswith("flattr-")
    assert f'content="{token}"' in first
    assert token not in client.get(claim.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"kind": "site", "url": "ftp://ada.example/", "method": "meta"}, "http or https"),
        ({"kind": "feed", "url": "https://ada.example/feed", "method": "meta"}, "does not fit"),
        ({"kind": "planet", "url": "https://ada.example/", "method": "meta"}, "valid choice"),
    ],
)
def test_bad_claims_are_form_errors_and_create_nothing(client, creator, data, message):
    response = client.post(reverse("claims"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Claim.objects.exists()


def test_checking_shows_the_state_then_the_exact_reason(
    client, creator, allow_loopback, django_capture_on_commit_callbacks
):
    with LocalSite({"/": (200, {"Content-Type": "text/html"}, b"<html></html>")}) as site:
        client.post(reverse("claims"), {"kind": "site", "url": site.url("/"), "method": "meta"})
        claim = Claim.objects.get()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            client.post(reverse("claim_check", args=[claim.pk]))
        page = client.get(claim.get_absolute_url()).content.decode()
        assert 'data-state="checking"' in page and 'http-equiv="refresh"' in page
        for callback in callbacks:
            callback()
    page = client.get(claim.get_absolute_url()).content.decode()
    assert 'data-state="failed"' in page
    assert "has no &lt;meta name=&quot;flattr:verification&quot;&gt; tag with your token" in page


def test_someone_elses_claim_is_404(client, creator):
    other = UserFactory()
    claim = Claim.objects.create(
        creator=other, kind="site", method="meta", url="https://x.example/", host="x.example",
        token_hash="0" * 64, token_expires_at="2030-01-01T00:00Z",
    )  # fmt: skip
    assert client.get(claim.get_absolute_url()).status_code == 404
    assert client.post(reverse("claim_check", args=[claim.pk])).status_code == 404


def test_unclaimed_lists_sites_with_money_waiting(client, django_capture_on_commit_callbacks):
    from payouts import services as payouts

    staff = UserFactory(is_staff=True, is_superuser=True)
    period = dt.date(2026, 9, 1)
    a = ThingFactory(owner=None, url="https://waiting.example/one")
    b = ThingFactory(owner=None, url="https://waiting.example/two")
    c = ThingFactory(owner=None, url="https://Other.example/x")
    s1, s2 = supporter(budget=1000, balance=5000), supporter(budget=260, balance=5000)
    flattr(s1, a, period)
    flattr(s2, b, period)
    flattr(s2, c, period, minute=1)
    run = payouts.payout_run_compute(period=period)
    payouts.payout_run_approve(run=run, actor=staff, queue=False)
    payouts.payout_run_post(run_id=run.pk)

    page = client.get(reverse("unclaimed")).content.decode()
    rows = page.split('<table id="unclaimed">')[1]
    assert rows.index("waiting.example") < rows.index("other.example")
    assert "about 11 EUR" in page  # 10.00 + 1.30, rounded
    assert "about 1 EUR" in page  # 1.30 rounded
    searched = client.get(reverse("unclaimed"), {"q": "OTHER"}).content.decode()
    assert "other.example" in searched and "waiting.example" not in searched
    assert "No site" in client.get(reverse("unclaimed"), {"q": "%_nothing"}).content.decode()


def test_a_profile_shows_verified_links_with_rel_me(client):
    creator = UserFactory(username="ada")
    Claim.objects.create(
        creator=creator, kind="site", method="meta", url="https://ada.example/",
        host="ada.example", token_hash="0" * 64, token_expires_at="2030-01-01T00:00Z",
        state=ClaimState.VERIFIED, verified_at="2026-01-01T00:00Z",
    )  # fmt: skip
    page = client.get("/u/ada/").content.decode()
    assert 'rel="me nofollow noopener" href="https://ada.example/"' in page
    assert "✓" in page


def test_claim_pages_and_reasons_speak_french(client, creator):
    page = client.get(reverse("unclaimed"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "De l’argent qui attend ses créateurs" in page
    claim = Claim.objects.create(
        creator=creator, kind="site", method="meta", url="https://ada.example/",
        host="ada.example", token_hash="0" * 64, token_expires_at="2030-01-01T00:00Z",
        state=ClaimState.FAILED, reason_code="dns", reason_params={"host": "ada.example"},
    )  # fmt: skip
    page = client.get(claim.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "L’hôte ada.example est introuvable" in page
    assert "Non vérifiée" in page
