"""The OAuth2 code flow end to end through the test client, as Flattr's
clients ran it: register an app, consent, exchange the code with HTTP Basic,
call the API, refresh, revoke."""

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Application, Grant

from api import services as api_services
from tests.api.conftest import ApiClient, assert_error
from tests.factories import UserFactory

REDIRECT = "https://app.example/callback"


def register(owner, client_type="confidential"):
    return api_services.application_register(
        user=owner, name="Podcatcher", redirect_uris=REDIRECT, client_type=client_type
    )


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def person(db):
    user = UserFactory(username="pat")
    client = Client()
    client.force_login(user)
    return user, client


def consent_page(client, app, headers=None, **params):
    """The consent page for ``app`` in the code flow; ``params`` add to or
    replace the query."""
    query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT}
    return client.get("/oauth/authorize", {**query, **params}, headers=headers)


def authorize(client, app, *, scope="flattr thing", extra=None):
    page = consent_page(client, app, scope=scope, state="s1", **(extra or {}))
    assert page.status_code == 200, page.content
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["allow"] = "Authorize"
    answer = client.post("/oauth/authorize", data)
    assert answer.status_code == 302, answer.content
    return page, answer


def code_from(answer):
    location = urlsplit(answer["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def granted(person, scope="flattr thing"):
    """A new app the person granted ``scope``: the app, its secret and the
    authorisation code."""
    _user, browser = person
    app, secret = register(UserFactory())
    return app, secret, code_from(authorize(browser, app, scope=scope)[1])


@pytest.mark.django_db
class TestCodeFlow:
    def test_end_to_end_with_basic_auth_refresh_and_revoke(self, person):
        user, browser = person
        app, secret = register(UserFactory())
        page, answer = authorize(browser, app, scope="flattr,thing")
        html = page.content.decode()
        assert "Podcatcher" in html
        assert "Flattr things and manage your subscriptions for you." in html
        assert "Create, update and delete your things." in html
        code = code_from(answer)

        token_client = Client()
        response = token_client.post(
            "/oauth/token",
            {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            HTTP_AUTHORIZATION=basic(app.client_id, secret),
        )
        assert response.status_code == 200, response.content
        token = response.json()
        assert token["token_type"] == "bearer"
        assert token["scope"] == "flattr thing"
        assert token["refresh_token"]

        api = ApiClient(token["access_token"])
        me = api.get("/user").json()
        assert me["username"] == "pat" and "email" not in me
        assert api.post("/things", {"url": "https://pat.example/1"}).status_code == 201

        refreshed = token_client.post(
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
            HTTP_AUTHORIZATION=basic(app.client_id, secret),
        ).json()
        assert refreshed["access_token"] != token["access_token"]
        assert_error(ApiClient(token["access_token"]).get("/user"), 401, "unauthorized")
        assert ApiClient(refreshed["access_token"]).get("/user").status_code == 200

        revoked = token_client.post(
            "/oauth/revoke",
            {"token": refreshed["access_token"]},
            HTTP_AUTHORIZATION=basic(app.client_id, secret),
        )
        assert revoked.status_code == 200
        assert_error(ApiClient(refreshed["access_token"]).get("/user"), 401, "unauthorized")

    def test_token_request_with_json_body_and_form_credentials(self, person):
        app, secret, code = granted(person)
        response = Client().post(
            "/oauth/token",
            json.dumps(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT,
                    "client_id": app.client_id,
                    "client_secret": secret,
                }
            ),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["token_type"] == "bearer"

    def test_a_token_without_scopes_reads_public_data_only(self, person, thing):
        app, secret, code = granted(person, scope="")
        token = (
            Client()
            .post(
                "/oauth/token",
                {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
                HTTP_AUTHORIZATION=basic(app.client_id, secret),
            )
            .json()
        )
        api = ApiClient(token["access_token"])
        assert api.get("/user").json()["username"] == "pat"
        assert_error(api.post(f"/things/{thing.pk}/flattr"), 403, "insufficient_scope")

    def test_wrong_secret_gets_no_token(self, person):
        app, _secret, code = granted(person)
        response = Client().post(
            "/oauth/token",
            {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            HTTP_AUTHORIZATION=basic(app.client_id, "wrong"),
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert not AccessToken.objects.exists()

    def test_a_code_works_once(self, person):
        app, secret, code = granted(person)
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        auth = basic(app.client_id, secret)
        assert Client().post("/oauth/token", data, HTTP_AUTHORIZATION=auth).status_code == 200
        again = Client().post("/oauth/token", data, HTTP_AUTHORIZATION=auth)
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"

    def test_refusing_consent_sends_access_denied(self, person):
        _user, browser = person
        app, _secret = register(UserFactory())
        page = consent_page(browser, app)
        form = page.context["form"]
        data = {name: form[name].value() or "" for name in form.fields if name != "allow"}
        answer = browser.post("/oauth/authorize", data)
        assert "error=access_denied" in answer["Location"]
        assert not Grant.objects.exists()

    def test_consent_page_speaks_french(self, person):
        _user, browser = person
        app, _secret = register(UserFactory())
        page = consent_page(browser, app, scope="flattr", headers={"accept-language": "fr"})
        html = page.content.decode()
        assert "Autoriser" in html
        assert "Flattrer des créations" in html

    def test_logged_out_person_is_sent_to_log_in(self, db):
        app, _secret = register(UserFactory())
        page = consent_page(Client(), app)
        assert page.status_code == 302
        assert "/accounts/login/" in page["Location"]


@pytest.mark.django_db
class TestRefusals:
    def test_unregistered_redirect_uri_is_refused_without_redirecting(self, person):
        _user, browser = person
        app, _secret = register(UserFactory())
        page = consent_page(browser, app, redirect_uri="https://evil.example/steal")
        assert page.status_code == 400
        assert "Location" not in page
        assert "evil.example" not in page.get("Location", "")
        assert "Authorisation refused" in page.content.decode()

    def test_unknown_scope_is_refused(self, person):
        _user, browser = person
        app, _secret = register(UserFactory())
        page = consent_page(browser, app, scope="flattr admin")
        assert page.status_code == 302
        assert "error=invalid_scope" in page["Location"]
        assert not Grant.objects.exists()

    def test_implicit_flow_is_refused(self, person):
        _user, browser = person
        app, _secret = register(UserFactory())
        page = consent_page(browser, app, response_type="token")
        location = page.get("Location", "")
        assert "access_token" not in location
        assert page.status_code in (302, 400)
        assert not AccessToken.objects.exists()

    def test_public_client_needs_pkce(self, person):
        _user, browser = person
        app, _secret = register(UserFactory(), client_type="public")
        page = consent_page(browser, app)
        assert page.status_code == 302
        assert "error=invalid_request" in page["Location"]

    def test_public_client_with_pkce_gets_a_token(self, person):
        _user, browser = person
        app, _secret = register(UserFactory(), client_type="public")
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .decode()
            .rstrip("=")
        )
        extra = {"code_challenge": challenge, "code_challenge_method": "S256"}
        code = code_from(authorize(browser, app, extra=extra)[1])

        def exchange(code_verifier):
            data = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": app.client_id,
                "code_verifier": code_verifier,
            }
            return Client().post("/oauth/token", data)

        response = exchange(verifier)
        assert response.status_code == 200, response.content
        assert exchange("x" * 50).status_code == 400

    def test_client_secrets_are_stored_hashed(self, db):
        app, secret = register(UserFactory())
        app.refresh_from_db()
        assert app.client_secret != secret
        assert Application.objects.filter(client_secret=secret).count() == 0


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    )
    return verifier, challenge


def exchange(app, code, secret=None, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra}
    headers = {}
    if secret is None:
        data["client_id"] = app.client_id
    else:
        headers["HTTP_AUTHORIZATION"] = basic(app.client_id, secret)
    return Client().post("/oauth/token", data, **headers)


@pytest.mark.django_db
class TestCodeMisuse:
    """RFC 6749 4.1.2 and RFC 9700 2.1.1 (issue 22, item 11)."""

    def test_a_reused_code_revokes_the_tokens_it_issued(self, person):
        app, secret, code = granted(person)
        first = exchange(app, code, secret)
        assert first.status_code == 200, first.content
        tokens = first.json()
        assert ApiClient(tokens["access_token"]).get("/user").status_code == 200

        again = exchange(app, code, secret)

        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"
        assert ApiClient(tokens["access_token"]).get("/user").status_code == 401
        assert not AccessToken.objects.exists()
        refresh = Client().post(
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            HTTP_AUTHORIZATION=basic(app.client_id, secret),
        )
        assert refresh.status_code == 400

    def test_a_reused_code_also_revokes_the_tokens_refreshed_from_it(self, person):
        app, secret, code = granted(person)
        tokens = exchange(app, code, secret).json()
        refreshed = Client().post(
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            HTTP_AUTHORIZATION=basic(app.client_id, secret),
        )
        assert refreshed.status_code == 200, refreshed.content
        newer = refreshed.json()["access_token"]
        assert ApiClient(newer).get("/user").status_code == 200

        assert exchange(app, code, secret).status_code == 400

        assert ApiClient(newer).get("/user").status_code == 401

    def test_another_apps_tokens_survive_a_reused_code(self, person):
        app, secret, code = granted(person)
        other, other_secret, other_code = granted(person)
        kept = exchange(other, other_code, other_secret).json()["access_token"]
        exchange(app, code, secret)
        exchange(app, code, secret)
        assert ApiClient(kept).get("/user").status_code == 200

    def test_a_wrong_pkce_verifier_burns_the_code(self, person):
        _user, browser = person
        app, _secret = register(UserFactory(), client_type="public")
        verifier, challenge = pkce_pair()
        extra = {"code_challenge": challenge, "code_challenge_method": "S256"}
        code = code_from(authorize(browser, app, extra=extra)[1])

        wrong = exchange(app, code, code_verifier="x" * 50)
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "invalid_grant"

        right = exchange(app, code, code_verifier=verifier)
        assert right.status_code == 400
        assert right.json()["error"] == "invalid_grant"
        assert not AccessToken.objects.exists()
        assert not Grant.objects.exists()

    def test_pkce_plain_is_refused_at_the_authorization_request(self, person):
        _user, browser = person
        app, _secret = register(UserFactory(), client_type="public")
        page = consent_page(
            browser, app, code_challenge="p" * 50, code_challenge_method="plain", state="s1"
        )
        assert page.status_code == 302, page.content
        location = urlsplit(page["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
        query = parse_qs(location.query)
        assert query["error"] == ["invalid_request"]
        assert query["state"] == ["s1"]
        assert not Grant.objects.exists()

    def test_a_challenge_without_a_method_means_plain_and_is_refused(self, person):
        _user, browser = person
        app, _secret = register(UserFactory(), client_type="public")
        page = consent_page(browser, app, code_challenge="p" * 50)
        assert page.status_code == 302
        assert "error=invalid_request" in page["Location"]
