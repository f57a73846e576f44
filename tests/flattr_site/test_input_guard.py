"""The inputs of the second audit (issue 22, item 8) that gave a 500: NUL
bytes, lone surrogates, JSON nested thousands deep and page numbers past any
range. Each is refused with 400 and a reason, on the web and on the API,
and nothing is written."""

import json

import pytest
from django.test import Client

from api import services as api_services
from buttons.models import Thing
from flattr_site.middleware_input import json_too_deep
from tests.factories import ThingFactory, UserFactory

DEEP = 30_000


def deep_json(depth: int = DEEP) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def member(db):
    user = UserFactory(username="nina", wallet_cents=1000)
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def bearer(member):
    user, _client = member
    _token, raw = api_services.personal_token_create(
        user=user, name="t", scopes="flattr thing email extendedread"
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def assert_refused(response, *, api: bool = False):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    if api:
        body = response.json()
        assert body["error"] == "invalid_request"
        assert body["error_description"]
    else:
        assert response.content.strip()


GETS = [
    "/rest/v2/users/%00",
    "/rest/v2/things/search?query=a%00b",
    "/rest/v2/things/lookup?url=https://a.example/%00",
    "/explore/?q=%00",
    "/unclaimed/?q=%00",
    "/u/%00/",
    "/u/%00/funding.json",
    "/.well-known/webfinger?resource=acct:%00@testserver",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", GETS)
def test_nul_in_path_or_query_is_refused(path):
    response = Client().get(path)
    assert_refused(response, api=path.startswith("/rest/"))


@pytest.mark.parametrize("field", ["title", "url"])
def test_nul_in_the_thing_form_is_refused_and_nothing_is_saved(member, field):
    _user, client = member
    data = {"url": "https://nul.example/a", "title": "A title", "category": "text"}
    data[field] = data[field].replace("A", "A\x00").replace("nul", "n\x00ul")
    assert_refused(client.post("/things/new/", data))
    assert not Thing.objects.exists()


@pytest.mark.parametrize("field", ["title", "url"])
def test_nul_in_an_api_thing_is_refused_and_nothing_is_saved(bearer, field):
    data = {"url": "https://nul.example/a", "title": "A title", "category": "text"}
    data[field] += "\x00"
    response = Client().post(
        "/rest/v2/things", json.dumps(data), content_type="application/json", **bearer
    )
    assert_refused(response, api=True)
    assert not Thing.objects.exists()


def test_a_lone_surrogate_in_json_is_refused(bearer):
    body = '{"url": "https://s.example/a", "title": "\\ud800", "category": "text"}'
    response = Client().post("/rest/v2/things", body, content_type="application/json", **bearer)
    assert_refused(response, api=True)
    assert not Thing.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/rest/v2/things", "/oauth/token", "/oauth/revoke"])
def test_json_nested_thousands_deep_is_refused(path):
    response = Client().post(path, deep_json(), content_type="application/json")
    assert_refused(response, api=True)


def test_json_nested_thousands_deep_is_refused_with_a_token(bearer):
    response = Client().post(
        "/rest/v2/things", deep_json(), content_type="application/json", **bearer
    )
    assert_refused(response, api=True)


def test_a_page_number_past_any_range_is_refused(member):
    _user, client = member
    assert_refused(client.get("/wallet/?page=99999999999999999999"))
    assert client.get("/wallet/?page=2").status_code == 200


def test_the_reason_speaks_french(member):
    _user, client = member
    response = client.get("/explore/?q=%00", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    assert "caractère" in response.content.decode()


def test_ordinary_json_and_text_pass(bearer):
    data = {"url": "https://ok.example/a", "title": "Été 🎉 [x]", "category": "text"}
    response = Client().post(
        "/rest/v2/things", json.dumps(data), content_type="application/json", **bearer
    )
    assert response.status_code == 201, response.content
    assert Thing.objects.get().title == "Été 🎉 [x]"


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("[]", False),
        ('{"a": "[[[[[[[[[["}', False),
        ('"\\"[[[[[[[["', False),
        ("[" * 64 + "]" * 64, False),
        ("[" * 65 + "]" * 65, True),
        ('{"a":' * 65 + "1" + "}" * 65, True),
    ],
)
def test_json_depth_is_counted_outside_strings(text, deep):
    assert json_too_deep(text, limit=64) is deep


def test_deep_json_is_refused_whatever_the_method(member):
    # The OAuth layer reads a JSON body even on GET /oauth/authorize.
    _user, client = member
    response = client.generic("GET", "/oauth/authorize", deep_json(), "application/json")
    assert_refused(response, api=True)


def test_nul_in_a_form_body_of_a_patch_is_refused(bearer, member):
    user, _client = member
    thing = ThingFactory(owner=user, title="Kept")
    response = Client().generic(
        "PATCH",
        f"/rest/v2/things/{thing.pk}",
        "title=a%00b",
        "application/x-www-form-urlencoded",
        **bearer,
    )
    assert_refused(response, api=True)
    thing.refresh_from_db()
    assert thing.title == "Kept"
