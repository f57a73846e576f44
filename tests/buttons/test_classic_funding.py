"""Open funding standards: rel=payment, oEmbed (with a real consumer),
funding.json (against the v1.1.0 schema) and WebFinger."""

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import jsonschema
import pytest
from bs4 import BeautifulSoup
from micawber import Provider, ProviderRegistry

from tests.factories import ThingFactory, UserFactory

pytestmark = pytest.mark.django_db

# The published schema, vendored (tests/api/data/README.md); the reference
# validator's further rules are checked in tests/api/test_funding_json.py.
SCHEMA = json.loads(
    (Path(__file__).parent.parent / "api" / "data" / "fundingjson-v1.1.0.schema.json").read_text()
)


@pytest.fixture
def site(settings):
    settings.SITE_URL = "http://testserver"
    return settings.SITE_URL


def test_a_thing_page_links_its_auto_submit_url_as_payment(client, site):
    thing = ThingFactory(url="https://blog.example/post?id=1", title="Post & more")
    response = client.get(thing.get_absolute_url())
    soup = BeautifulSoup(response.content, "html.parser")
    payment = soup.find("link", rel="payment")["href"]
    query = parse_qs(urlsplit(payment).query)
    assert payment.startswith(site + "/submit/auto?")
    assert query["user_id"] == [thing.owner.username]
    assert query["url"] == ["https://blog.example/post?id=1"]
    assert response["Link"] == f'<{payment}>; rel="payment"'


def test_a_profile_links_its_payment_url_in_head_and_header(client, site):
    creator = UserFactory(username="ada", display_name="Ada")
    response = client.get("/u/ada/")
    soup = BeautifulSoup(response.content, "html.parser")
    payment = soup.find("link", rel="payment")["href"]
    assert parse_qs(urlsplit(payment).query)["user_id"] == [creator.username]
    assert 'rel="payment"' in response["Link"]


def test_hidden_things_carry_no_payment_link(client, site):
    thing = ThingFactory(hidden=True)
    client.force_login(thing.owner)
    response = client.get(thing.get_absolute_url())
    assert b'rel="payment"' not in response.content
    assert "Link" not in response


class TestOEmbed:
    def test_a_thing_is_a_rich_button(self, client, site):
        thing = ThingFactory(title="A <b>title</b>")
        response = client.get("/oembed", {"url": site + thing.get_absolute_url(), "format": "json"})
        assert response.status_code == 200
        data = response.json()
        assert data["version"] == "1.0" and data["type"] == "rich"
        assert (data["width"], data["height"]) == (74, 66)
        assert f'src="{site}/embed/{thing.pk}/"' in data["html"]
        assert "<b>" not in data["html"]
        assert data["author_name"] == thing.owner.public_name

    def test_a_low_slot_gets_the_compact_button(self, client, site):
        thing = ThingFactory()
        data = client.get(
            "/oembed", {"url": site + thing.get_absolute_url(), "maxwidth": 400, "maxheight": 30}
        ).json()
        assert (data["width"], data["height"]) == (112, 24)
        assert "style=compact" in data["html"]

    def test_a_profile_is_a_button_for_the_person(self, client, site):
        UserFactory(username="ada")
        data = client.get("/oembed", {"url": site + "/u/ada/"}).json()
        assert "/button/view/?" in data["html"] and "uid=ada" in data["html"]

    @pytest.mark.parametrize(
        "params, status",
        [
            ({}, 400),
            ({"url": "http://testserver/things/999999/"}, 404),
            ({"url": "https://elsewhere.example/things/1/"}, 404),
            ({"url": "http://testserver/explore/"}, 404),
            ({"url": "http://testserver/u/ada/", "format": "xml"}, 501),
            ({"url": "http://testserver/u/ada/", "maxwidth": "wide"}, 400),
        ],
    )
    def test_bad_requests_have_clear_statuses(self, client, site, params, status):
        UserFactory(username="ada")
        response = client.get("/oembed", params)
        assert response.status_code == status
        assert response.json()["message"]

    def test_micawber_discovers_and_renders_the_button(self, live_server, settings):
        settings.SITE_URL = live_server.url
        thing = ThingFactory(title="Discover me")
        page_url = live_server.url + thing.get_absolute_url()
        with urlopen(page_url) as page:  # noqa: S310 - our own live server
            soup = BeautifulSoup(page.read(), "html.parser")
        link = soup.find("link", type="application/json+oembed")
        endpoint = link["href"].split("?")[0]
        registry = ProviderRegistry()
        registry.register(re.escape(live_server.url) + r"/things/\d+/", Provider(endpoint))
        data = registry.request(page_url)
        assert data["type"] == "rich" and data["title"] == "Discover me"
        rendered = registry.parse_text(page_url)
        assert f"/embed/{thing.pk}/" in rendered and "<iframe" in rendered


class TestFundingJson:
    def test_follows_the_v1_1_schema(self, client, site):
        creator = UserFactory(username="ada", display_name="Ada Lovelace")
        ThingFactory(owner=creator, title="Notes", tags="Math, Engines, x, ünïcode tag")
        ThingFactory(owner=creator, title="Second", description="")
        ThingFactory(owner=creator, hidden=True)
        response = client.get("/u/ada/funding.json")
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "*"
        data = response.json()
        jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft7Validator)
        assert data["version"] == "v1.1.0"
        assert data["entity"]["name"] == "Ada Lovelace"
        assert creator.email not in json.dumps(data)  # people's addresses stay private
        assert len(data["projects"]) == 2  # the hidden thing is not listed
        channels = {c["guid"] for c in data["funding"]["channels"]}
        assert all(set(p["channels"]) <= channels for p in data["funding"]["plans"])
        guids = [p["guid"] for p in data["projects"]]
        assert len(set(guids)) == len(guids)
        assert data["funding"]["plans"][0]["currency"] == "EUR"

    def test_a_creator_without_things_is_still_valid(self, client, site):
        UserFactory(username="newbie")
        data = client.get("/u/newbie/funding.json").json()
        jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft7Validator)
        # The reference validator wants one project at least: the profile.
        assert [p["guid"] for p in data["projects"]] == ["profile"]

    def test_an_unknown_creator_is_404(self, client, site):
        assert client.get("/u/nobody/funding.json").status_code == 404

    def test_the_schema_catches_a_broken_manifest(self):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"entity": {}, "funding": {}}, SCHEMA)


class TestWebFinger:
    def test_an_account_answers_profile_and_payment_links(self, client, site):
        creator = UserFactory(username="ada")
        response = client.get("/.well-known/webfinger", {"resource": "acct:ada@testserver"})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/jrd+json"
        assert response["Access-Control-Allow-Origin"] == "*"
        data = json.loads(response.content)
        assert data["subject"] == "acct:ada@testserver"
        rels = {link["rel"]: link["href"] for link in data["links"]}
        assert rels["http://webfinger.net/rel/profile-page"] == site + "/u/ada/"
        assert parse_qs(urlsplit(rels["payment"]).query)["user_id"] == [creator.username]

    def test_rel_filters_the_links(self, client, site):
        UserFactory(username="ada")
        data = json.loads(
            client.get(
                "/.well-known/webfinger", {"resource": "acct:ada@testserver", "rel": "payment"}
            ).content
        )
        assert [link["rel"] for link in data["links"]] == ["payment"]

    def test_a_profile_url_is_a_resource_too(self, client, site):
        UserFactory(username="ada")
        response = client.get("/.well-known/webfinger", {"resource": site + "/u/ada/"})
        assert json.loads(response.content)["subject"] == "acct:ada@testserver"

    @pytest.mark.parametrize(
        "resource, status",
        [
            ("", 400),
            ("mailto:ada@testserver", 400),
            ("acct:nobody@testserver", 404),
            ("acct:ada@elsewhere.example", 404),
        ],
    )
    def test_bad_resources(self, client, site, resource, status):
        UserFactory(username="ada")
        response = client.get("/.well-known/webfinger", {"resource": resource})
        assert response.status_code == status


def test_the_button_page_offers_feed_podcast_and_funding_yml_snippets(client, site):
    thing = ThingFactory(url="https://blog.example/a?b=1&c=2")
    client.force_login(thing.owner)
    soup = BeautifulSoup(client.get(f"/things/{thing.pk}/button/").content, "html.parser")
    snippets = {pre["id"]: pre.get_text() for pre in soup.find_all("pre") if pre.get("id")}
    payment = snippets["snippet-auto-submit"]
    assert parse_qs(urlsplit(payment).query)["url"] == ["https://blog.example/a?b=1&c=2"]
    assert snippets["snippet-feed"] == (
        f'<atom:link rel="payment" href="{payment.replace("&", "&amp;")}" type="text/html" />'
    )
    assert snippets["snippet-podcast"].startswith('<podcast:funding url="')
    assert snippets["snippet-podcast"].endswith(">Flattr</podcast:funding>")
    assert snippets["snippet-funding-yml"] == f'custom: ["{payment}"]'
    for name in snippets:
        assert soup.find("button", attrs={"data-target": name}), f"{name} has a copy button"
