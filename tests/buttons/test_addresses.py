"""Addresses of things: scheme and host normalised; credentials, bidi
overrides and zero-width characters refused; IDN hosts shown in punycode."""

from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from buttons import addresses, services
from buttons.models import Flattr, Thing
from tests.factories import UserFactory


@pytest.mark.parametrize(
    "given, normal",
    [
        ("HTTPS://X.example/", "https://x.example/"),
        ("Http://Blog.Example.ORG/Post?A=B", "http://blog.example.org/Post?A=B"),
        ("https://x.example", "https://x.example/"),
        ("https://x.example:443/a", "https://x.example/a"),
        ("http://x.example:8080/a", "http://x.example:8080/a"),
        ("https://XN--80AK6AA92E.example/", "https://xn--80ak6aa92e.example/"),
    ],
)
def test_scheme_and_host_are_normalised(given, normal):
    assert addresses.url_normalize(given) == normal


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@x.example/",
        "https://user@x.example/",
        "https://x.example/\u202eexe.txt",
        "https://x.example/a%E2%80%AEb",
        "https://x\u200b.example/",
        "https://x.example/\ufeff",
        "https://x.example/\u2066a",
        "javascript:alert(1)",
        "ftp://x.example/",
    ],
)
def test_credentials_bidi_and_zero_width_are_refused(url):
    with pytest.raises(ValidationError):
        addresses.url_normalize(url)


def test_idn_host_is_shown_in_unicode_and_punycode():
    shown = addresses.host_display("https://раураl.example/login")
    assert shown == ("раураl.example", "xn--l-7sba6dbr.example")
    assert addresses.host_display("https://plain.example/") == ("plain.example", "")


@pytest.mark.django_db
def test_an_uppercase_scheme_is_stored_normalised_and_flattrable(client):
    creator = UserFactory(username="claire")
    client.force_login(UserFactory(wallet_cents=1000))
    query = urlencode({"user_id": "claire", "url": "HTTPS://Claire.Example.org/A", "title": "A"})
    assert client.get("/embed/auto/?" + query).status_code == 200
    response = client.post(
        "/submit/auto?" + query,
        HTTP_ACCEPT="application/json",
        HTTP_REFERER="https://claire.example.org/",
    )
    assert response.status_code == 200
    thing = Thing.objects.get()
    assert (thing.owner, thing.url) == (creator, "https://claire.example.org/A")
    assert Flattr.objects.get().thing == thing


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["https://u:p@x.example/", "https://x.example/\u202eabc"])
def test_auto_submit_refuses_tricky_urls_and_records_nothing(client, url):
    UserFactory(username="claire")
    client.force_login(UserFactory(wallet_cents=1000))
    query = urlencode({"user_id": "claire", "url": url, "title": "A"})
    response = client.post("/submit/auto?" + query, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert not Thing.objects.exists()


@pytest.mark.django_db
def test_thing_form_normalises_and_refuses_credentials(client):
    creator = UserFactory()
    client.force_login(creator)
    data = {"title": "T", "category": "text"}
    refused = client.post(reverse("thing_new"), {**data, "url": "https://a:b@x.example/"})
    assert refused.status_code == 400
    assert (
        client.post(reverse("thing_new"), {**data, "url": "HTTPS://X.example/p"}).status_code == 302
    )
    assert Thing.objects.get().url == "https://x.example/p"


@pytest.mark.django_db
def test_the_service_normalises_too():
    thing = services.thing_create(owner=UserFactory(), url="HTTPS://Y.example", title="Y")
    assert thing.url == "https://y.example/"


@pytest.mark.django_db
def test_confirm_popup_shows_punycode_beside_an_idn_host(client):
    UserFactory(username="claire")
    client.force_login(UserFactory(wallet_cents=1000))
    query = urlencode({"user_id": "claire", "url": "https://раураl.example/", "title": "Pay"})
    body = client.get("/submit/auto?" + query).content.decode()
    assert "раураl.example" in body
    assert "xn--l-7sba6dbr.example" in body
