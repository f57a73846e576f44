"""Claims are discoverable (issue #28 item 2): a creator whose own sites (profile
website, verified claims) have unclaimed things holding money is told so on the
dashboard, My things and Earnings, with a link that prefills the claim; the
menu shows creator pages only to creators."""

import itertools

import pytest
from django.urls import reverse

from ledger import services as ledger
from ledger.models import AccountKind
from tests.factories import ThingFactory, UserFactory, earn

pytestmark = pytest.mark.django_db

_keys = itertools.count()


def hold(url: str, cents: int):
    """An unclaimed thing at ``url`` holding ``cents``, as a monthly run leaves it."""
    thing = ThingFactory(owner=None, url=url)
    ledger.transaction_post(
        kind="payout",
        idempotency_key=f"test-hold:{next(_keys)}",
        legs=[
            (ledger.platform_account(kind=AccountKind.PAYOUT_CLEARING), -cents),
            (ledger.account_get(kind=AccountKind.UNCLAIMED, ref=f"thing:{thing.pk}"), cents),
        ],
    )
    return thing


@pytest.fixture
def ada(client):
    user = UserFactory(username="ada", website="https://www.ada.example/")
    ThingFactory(owner=user, url="https://ada.example/about")
    client.force_login(user)
    return user


@pytest.mark.parametrize("page", ["dashboard", "my_things", "earnings"])
def test_a_creator_learns_of_money_on_her_site(client, ada, page):
    hold("https://ada.example/post-1", 1234)
    hold("https://ada.example/post-2", 100)
    hold("https://someone-else.example/post", 5000)
    html = client.get(reverse(page)).content.decode()
    assert 'data-testid="money-waiting"' in html
    assert "Things on your site hold 13.34\u00a0€: claim them" in html
    assert "/claims/?kind=site&amp;url=https://ada.example/" in html
    assert "someone-else.example" not in html


def test_nothing_to_say_without_money_on_her_sites(client, ada):
    hold("https://someone-else.example/post", 5000)
    html = client.get(reverse("my_things")).content.decode()
    assert 'data-testid="money-waiting"' not in html
    # The ways to claim are still one click away.
    assert reverse("claims") in html and reverse("unclaimed") in html


def test_the_notice_speaks_french(client, ada):
    hold("https://ada.example/post-1", 1234)
    client.cookies["django_language"] = "fr"
    html = client.get(reverse("earnings"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Des créations de votre site attendent" in html


def test_the_claim_form_is_prefilled_from_the_link(client, ada):
    html = client.get(reverse("claims") + "?kind=site&url=https://ada.example/").content.decode()
    assert 'value="https://ada.example/"' in html


def test_settings_link_to_claims(client, ada):
    html = client.get(reverse("settings")).content.decode()
    assert reverse("claims") in html and reverse("unclaimed") in html


def test_the_menu_shows_creator_pages_only_to_creators(client):
    supporter = UserFactory(username="sam")
    client.force_login(supporter)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'aria-controls="nav-creator"' not in html
    assert f'href="{reverse("my_flattrs")}"' in html
    creator = UserFactory(username="cleo")
    earn(creator, 900)  # earnings, even with no thing left
    client.force_login(creator)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'aria-controls="nav-creator"' in html
    assert f'href="{reverse("earnings")}"' in html
