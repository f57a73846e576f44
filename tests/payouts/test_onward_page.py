"""Onward shares in the browser's pages (issue 26, "What people see"): the
Settings → Pass it on page, the public "passes on" text, "received onward"
on the earnings page and My months."""

import re

import pytest
from django.urls import reverse

from payouts.models import OnwardShare
from payouts.onward import onward_set
from tests.factories import PASSWORD, UserFactory, flattr, supporter, thing
from tests.payouts.helpers import P, compute, post

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def flat(html):
    """The page with its line breaks and indents as single spaces (not the
    no-break spaces of amounts)."""
    return re.sub(r"[ \t\r\n]+", " ", html)


@pytest.fixture
def claire(client):
    claire = UserFactory(username="claire", display_name="Claire")
    assert client.login(email=claire.email, password=PASSWORD)
    return claire


@pytest.fixture
def bob():
    return UserFactory(username="bob", display_name="Bob")


def listed(creator):
    return [
        (s.target_user_id, s.target_thing_id, s.percent)
        for s in OnwardShare.objects.filter(creator=creator).order_by("position")
    ]


def rows(*pairs):
    data = {}
    for i, (target, percent) in enumerate(pairs):
        data[f"target_{i}"] = target
        data[f"percent_{i}"] = percent
    return data


@pytest.fixture
def posted_month(settings, claire, bob):
    """September 2026, posted: Sophie gives 600 to Claire's things (net 540
    at a 10 % fee); Claire passes 33 % on to Bob (178 cents)."""
    settings.FLATTR_FEE_PERCENT = 10
    sophie = supporter(budget=600, balance=5000, username="sophie")
    flattr(sophie, thing(owner=claire), P)
    flattr(sophie, thing(owner=claire), P, minute=1)
    onward_set(creator=claire, entries=[("@bob", 33)])
    admin = UserFactory(is_staff=True, is_superuser=True)
    return post(compute(), admin)


def test_the_page_shows_the_list_and_three_empty_rows(client, claire, bob):
    song = thing(owner=UserFactory(), title="Song")
    onward_set(creator=claire, entries=[("@bob", 10), (str(song.pk), 5)])
    response = client.get(reverse("onward_settings"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.rows == 5
    html = response.content.decode()
    assert 'name="target_0" value="@bob"' in html
    assert f'name="target_1" value="{song.pk}"' in html
    assert 'name="percent_1" value="5"' in html
    assert 'name="target_4"' in html and 'name="target_5"' not in html


def test_a_valid_list_is_saved_whole_and_empty_rows_are_skipped(client, claire, bob):
    song = thing(owner=UserFactory())
    onward_set(creator=claire, entries=[("@bob", 50)])
    data = rows(("", ""), (str(song.pk), " 7 "), ("@BOB", "12"), ("", ""))
    response = client.post(reverse("onward_settings"), data)
    assert response.status_code == 302
    assert listed(claire) == [(None, song.pk, 7), (bob.pk, None, 12)]
    # Emptying every row clears the list.
    response = client.post(reverse("onward_settings"), rows(("", ""), ("", "")))
    assert response.status_code == 302 and listed(claire) == []


def test_the_settings_page_and_the_creator_menu_link_to_it(client, claire):
    thing(owner=claire)  # a creator: the menu has its "Creating" group
    url = reverse("onward_settings")
    assert url == "/settings/onward/"
    assert f'href="{url}"' in client.get(reverse("settings")).content.decode()
    assert f'href="{url}"' in client.get(reverse("my_things")).content.decode()


def test_the_page_needs_a_login(client):
    response = client.get(reverse("onward_settings"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


BAD = [
    ("not whole", [("@bob", "2.5")], "2.5 is not a percent", "2.5 n’est pas un pourcentage"),
    ("over 100", [("@bob", "60"), ("@dora", "41")], "add up to 101", "101"),
    ("negative", [("@bob", "-5")], "-5 is not a percent", "-5 n’est pas un pourcentage"),
    ("unknown", [("@nobody", "5")], "There is no creator @nobody", "@nobody"),
    ("own thing", [("OWN", "5")], "is your own thing", "OWN"),
    ("21 rows", [(f"@u{i}", "1") for i in range(21)], "at most 20 onward shares, not 21", "21"),
]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("case, pairs, english, french", BAD, ids=[b[0] for b in BAD])
def test_each_bad_list_is_a_form_error_and_nothing_is_saved(
    client, claire, bob, language, case, pairs, english, french
):
    UserFactory(username="dora")
    for i in range(21):
        UserFactory(username=f"u{i}")
    mine = thing(owner=claire)
    pairs = [(str(mine.pk) if target == "OWN" else target, p) for target, p in pairs]
    onward_set(creator=claire, entries=[("@dora", 20)])
    before = listed(claire)
    response = client.post(reverse("onward_settings"), rows(*pairs), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    html = response.content.decode()
    error = response.context["form"].non_field_errors()
    assert len(error) == 1
    expected = english if language == "en" else french
    if case == "own thing":
        expected = f"{mine.pk}"
    assert expected in error[0]
    assert 'data-testid="onward-error"' in html
    if language == "fr":
        assert error[0] != _english_message(client, pairs)
    # What was typed comes back, and nothing changed.
    assert f'value="{pairs[0][0]}"' in html
    assert listed(claire) == before


def _english_message(client, pairs):
    response = client.post(reverse("onward_settings"), rows(*pairs), HTTP_ACCEPT_LANGUAGE="en")
    return response.context["form"].non_field_errors()[0]


def test_a_target_without_a_percent_is_a_field_error(client, claire, bob):
    response = client.post(reverse("onward_settings"), rows(("@bob", "")))
    assert response.status_code == 400
    assert response.context["form"].errors["percent_0"] == ["Give this target a percent."]
    french = client.post(
        reverse("onward_settings"), rows(("", "5")), HTTP_ACCEPT_LANGUAGE="fr"
    ).context["form"]
    assert french.errors["target_0"] == ["Indiquez un destinataire pour ce pourcentage."]
    assert listed(claire) == []


def test_the_preview_applies_the_list_to_last_months_net_to_the_cent(
    client, claire, bob, posted_month
):
    song = thing(owner=UserFactory(), title="Song")
    onward_set(creator=claire, entries=[("@bob", 33), (str(song.pk), 10)])
    response = client.get(reverse("onward_settings"))
    preview = response.context["preview"]
    assert (preview["net"], preview["kept"]) == (540, 540 - 178 - 54)
    assert [s["cents"] for s in preview["shares"]] == [178, 54]
    html = flat(response.content.decode())
    assert f"of your 5.40{NBSP}€ net, 1.78{NBSP}€ would go to" in html
    assert '<a href="/u/bob/">Bob</a> (33%)' in html
    assert f"you would keep 3.08{NBSP}€" in html
    french = flat(
        client.get(reverse("onward_settings"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    )
    assert f"sur vos 5,40{NBSP}€ nets, 1,78{NBSP}€ iraient à" in french
    assert f"vous garderiez 3,08{NBSP}€" in french


def test_the_profile_and_things_say_what_is_passed_on(client, claire, bob):
    song = thing(owner=UserFactory(), title="Song")
    gone = thing(owner=UserFactory(), title="Gone", hidden=True)
    essay = thing(owner=claire, title="Essay")
    onward_set(creator=claire, entries=[("@bob", 10), (str(song.pk), 5), (str(gone.pk), 3)])
    client.logout()
    html = flat(client.get(claire.get_absolute_url()).content.decode())
    assert 'Passes on 10% to <a href="/u/bob/">Bob</a>, 5% to' in html
    assert f'<a href="{song.get_absolute_url()}">Song</a>.' in html
    assert "Gone" not in html  # a hidden thing would not be paid
    page = flat(client.get(essay.get_absolute_url()).content.decode())
    assert "Its creator, Claire, passes on 10% to" in page
    french = flat(client.get(claire.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert 'Reverse 10 % à <a href="/u/bob/">Bob</a>' in french
    # Nothing passed on: nothing said.
    assert "onward-public" not in client.get(bob.get_absolute_url()).content.decode()


def test_the_receiving_creators_earnings_say_from_whom(client, claire, bob, posted_month):
    client.logout()
    assert client.login(email=bob.email, password=PASSWORD)
    html = flat(client.get(reverse("earnings")).content.decode())
    assert (
        f'1.78{NBSP}€ received onward from <a href="/u/claire/">Claire</a> (33% of their net)'
        in html
    )
    french = flat(client.get(reverse("earnings"), HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert f'1,78{NBSP}€ reçus de <a href="/u/claire/">Claire</a>' in french


def test_my_months_shows_what_was_passed_on_and_received(client, claire, bob, posted_month):
    html = flat(client.get(reverse("my_months")).content.decode())
    assert "Passed on and received onward" in html
    assert (
        f'<td class="num">5.40{NBSP}€</td><td class="num">1.78{NBSP}€</td><td class="num">0.00{NBSP}€</td>'
        in html
    )
    client.logout()
    assert client.login(email=bob.email, password=PASSWORD)
    html = flat(client.get(reverse("my_months"), HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert "Transmis et reçus" in html
    assert f'<td class="num">0,00{NBSP}€</td><td class="num">1,78{NBSP}€</td>' in html
