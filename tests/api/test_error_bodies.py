"""Every error of the API, REST and OAuth2 alike, carries ``error``,
``error_description``, ``message`` and ``description`` (issue 28, items 17
and 19): Flattr's clients read one shape or the other, and flattrclient
raises KeyError on a body without ``error``."""

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from rest_framework.exceptions import Throttled

from api import services as api_services
from api.errors import exception_handler
from tests.api.conftest import ApiClient, token_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REDIRECT = "https://app.example/callback"
FOUR = ("error", "error_description", "message", "description")


def four_keys(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    missing = [key for key in FOUR if not body.get(key)]
    assert not missing, (missing, body)
    assert body["message"] == body["error"]
    assert body["description"] == body["error_description"]
    return body


@pytest.fixture
def sam(db):
    return UserFactory(username="sam", wallet_cents=1000)


@pytest.fixture
def rest(sam):
    return ApiClient(token_for(sam))


class TestRest:
    @pytest.mark.parametrize(
        ("path", "status", "code"),
        [
            ("/things/lookup?url=https%3A%2F%2Fnowhere.example%2Fpost", 404, "not_found"),
            ("/things/lookup/?url=https%3A%2F%2Fnowhere.example%2Fpost", 404, "not_found"),
            ("/things/lookup.json?url=https%3A%2F%2Fnowhere.example%2Fpost", 404, "not_found"),
            ("/things/999999", 404, "not_found"),
            ("/users/nobody-here", 404, "not_found"),
            ("/no/such/resource", 404, "not_found"),
            ("/things/search?count=lots", 400, "invalid_parameters"),
            ("/things?page=%00", 400, "invalid_request"),
        ],
    )
    def test_reads(self, path, status, code):
        response = Client().get("/rest/v2" + path)
        assert four_keys(response, status)["error"] == code

    def test_unauthenticated_and_bad_token(self):
        assert four_keys(ApiClient().get("/user"), 401)["error"] == "unauthorized"
        assert four_keys(ApiClient("not-a-token").get("/user"), 401)["error"] == "unauthorized"

    def test_insufficient_scope(self, sam):
        response = ApiClient(token_for(sam, scopes="")).post(
            "/things", {"url": "https://a.example"}
        )
        assert four_keys(response, 403)["error"] == "insufficient_scope"

    def test_method_not_allowed(self, rest):
        assert four_keys(rest.delete("/categories"), 405)["error"] == "method_not_allowed"

    def test_unsupported_media_type(self, rest):
        response = rest.client.post(
            "/rest/v2/things",
            "url=x",
            content_type="text/plain",
            HTTP_AUTHORIZATION=f"Bearer {rest.token}",
        )
        assert four_keys(response, 415)["error"] == "unsupported_media_type"

    def test_invalid_parameters_on_write(self, rest):
        response = rest.post("/things", {"url": "not a url"})
        assert four_keys(response, 400)["error"] == "invalid_parameters"

    def test_rate_limit(self, rest, settings):
        settings.FLATTR_API_RATE_LIMIT = 1
        rest.get("/user")
        assert four_keys(rest.get("/user"), 403)["error"] == "rate_limit_exceeded"

    def test_a_throttle_answers_429_in_flattrs_words(self, rf):
        response = exception_handler(Throttled(wait=12), {"request": rf.get("/rest/v2/user")})
        assert response.status_code == 429
        assert response["Retry-After"] == "13"
        assert response.data["error"] == response.data["message"] == "rate_limit_exceeded"
        assert response.data["error_description"] == response.data["description"]


def register(client_type="confidential"):
    return api_services.application_register(
        user=UserFactory(), name="Podcatcher", redirect_uris=REDIRECT, client_type=client_type
    )


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


class TestOAuth:
    def test_token_errors(self):
        app, secret = register()
        auth = basic(app.client_id, secret)
        token = "/oauth/token"
        grant = {"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT}
        cases = [
            (Client().post(token, grant, HTTP_AUTHORIZATION=auth), 400, "invalid_grant"),
            (
                Client().post(token, grant, HTTP_AUTHORIZATION=basic(app.client_id, "wrong")),
                401,
                "invalid_client",
            ),
            (Client().post(token, grant), 401, "invalid_client"),
            (
                Client().post(token, {"grant_type": "magic"}, HTTP_AUTHORIZATION=auth),
                400,
                "unsupported_grant_type",
            ),
            (
                Client().post(token, {"grant_type": "refresh_token"}, HTTP_AUTHORIZATION=auth),
                400,
                "invalid_request",
            ),
            (Client().get(token), 405, "invalid_request"),
        ]
        for response, status, code in cases:
            assert four_keys(response, status)["error"] == code

    def test_revoke_errors(self):
        app, _secret = register()
        response = Client().post("/oauth/revoke", {"token": "x"})
        assert four_keys(response, 401)["error"] == "invalid_client"
        assert four_keys(Client().get("/oauth/revoke"), 405)["error"] == "invalid_request"

    @pytest.mark.parametrize(
        ("params", "code"),
        [
            ({"scope": "flattr admin"}, "invalid_scope"),
            ({"response_type": "token"}, "unauthorized_client"),
            ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ],
    )
    def test_authorize_errors_sent_to_the_client(self, params, code):
        app, _secret = register()
        browser = Client()
        browser.force_login(UserFactory())
        query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT}
        page = browser.get("/oauth/authorize", {**query, **params})
        assert page.status_code == 302, page.content
        sent = parse_qs(urlsplit(page["Location"]).query)
        assert sent["error"] == [code]
        assert sent["error_description"][0].strip()

    def test_access_denied_has_a_description(self):
        app, _secret = register()
        browser = Client()
        browser.force_login(UserFactory())
        query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT}
        page = browser.get("/oauth/authorize", query)
        form = page.context["form"]
        refuse = {name: form[name].value() or "" for name in form.fields if name != "allow"}
        answer = browser.post("/oauth/authorize", refuse)
        sent = parse_qs(urlsplit(answer["Location"]).query)
        assert sent["error"] == ["access_denied"]
        assert sent["error_description"][0].strip()
