"""The developer pages: Developers guide, API reference, developer apps,
authorised apps, personal tokens."""

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Application, RefreshToken

from api import services as api_services
from api.models import PersonalToken
from tests.api.conftest import ApiClient, assert_error
from tests.factories import UserFactory


@pytest.fixture
def browser(db):
    client = Client()
    user = UserFactory(username="dev")
    client.force_login(user)
    client.user = user
    return client


@pytest.mark.django_db
class TestDevelopersPages:
    @pytest.mark.parametrize(
        ("language", "expected"),
        [("en", "The auto-submit URL"), ("fr", "L’URL d’auto-soumission")],
    )
    def test_developers_page_in_english_and_french(self, language, expected):
        response = Client().get("/developers/", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        html = response.content.decode()
        assert expected in html
        assert "X-RateLimit-Remaining" in html
        assert "/oauth/authorize" in html

    def test_api_reference_uses_local_static_files_only(self):
        response = Client().get("/developers/api/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "swagger-ui" in html
        assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
        assert "cdn" not in html.lower()
        assert "<script>" not in html.replace(" ", "")

    def test_openapi_schema_is_public_json(self):
        response = Client().get("/rest/v2/openapi.json")
        assert response.status_code == 200
        schema = response.json()
        assert schema["openapi"].startswith("3.")
        assert "/rest/v2/things/{id}/flattr" in schema["paths"]
        flattr = schema["paths"]["/rest/v2/things/{id}/flattr"]["post"]
        assert {"oauth2": ["flattr"]} in flattr["security"]
        assert "403" in flattr["responses"] and "401" in flattr["responses"]
        flows = schema["components"]["securitySchemes"]["oauth2"]["flows"]
        assert set(flows["authorizationCode"]["scopes"]) == {
            "flattr",
            "thing",
            "email",
            "extendedread",
        }

    def test_old_schema_url_is_not_served(self):
        assert Client().get("/api/schema/").status_code == 404


@pytest.mark.django_db
class TestDeveloperApps:
    def test_register_shows_secret_once(self, browser):
        response = browser.post(
            "/settings/apps/",
            {
                "name": "My podcatcher",
                "redirect_uris": "https://pod.example/cb\nhttp://localhost:8080/cb",
                "client_type": "confidential",
            },
        )
        assert response.status_code == 200
        app = Application.objects.get(user=browser.user)
        secret = response.context["created"]["secret"]
        html = response.content.decode()
        assert app.client_id in html and secret in html
        assert app.redirect_uris == "https://pod.example/cb http://localhost:8080/cb"
        again = browser.get("/settings/apps/").content.decode()
        assert app.client_id in again and secret not in again

    @pytest.mark.parametrize(
        "data",
        [
            {"name": "", "redirect_uris": "https://a.example/cb", "client_type": "public"},
            {"name": "x", "redirect_uris": "not a uri", "client_type": "public"},
            {"name": "x", "redirect_uris": "https://a.example/cb", "client_type": "other"},
            {"name": "x", "redirect_uris": "https://a.example/cb#frag", "client_type": "public"},
            {"name": "x", "redirect_uris": "http://a.example/cb", "client_type": "public"},
        ],
    )
    def test_invalid_registration_changes_nothing(self, browser, data):
        response = browser.post("/settings/apps/", data)
        assert response.status_code == 400
        assert not Application.objects.exists()

    def test_delete_own_app_only(self, browser):
        mine, _ = api_services.application_register(
            user=browser.user, name="a", redirect_uris="https://a.example/cb", client_type="public"
        )
        theirs, _ = api_services.application_register(
            user=UserFactory(), name="b", redirect_uris="https://b.example/cb", client_type="public"
        )
        browser.post(f"/settings/apps/{theirs.pk}/delete/")
        browser.post(f"/settings/apps/{mine.pk}/delete/")
        assert list(Application.objects.all()) == [theirs]

    def test_pages_need_login(self, db):
        for path in ["/settings/apps/", "/settings/authorised-apps/", "/settings/tokens/"]:
            assert Client().get(path).status_code == 302


@pytest.mark.django_db
class TestAuthorisedApps:
    def test_revoke_removes_tokens_of_that_app_for_me(self, browser):
        app, _ = api_services.application_register(
            user=UserFactory(),
            name="Pod",
            redirect_uris="https://a.example/cb",
            client_type="public",
        )
        from django.utils import timezone

        expires = timezone.now() + timezone.timedelta(hours=1)
        mine = AccessToken.objects.create(
            user=browser.user, application=app, token="mine-token", expires=expires, scope="flattr"
        )
        RefreshToken.objects.create(
            user=browser.user, application=app, token="mine-refresh", access_token=mine
        )
        other = UserFactory()
        AccessToken.objects.create(
            user=other, application=app, token="other-token", expires=expires, scope="flattr"
        )
        page = browser.get("/settings/authorised-apps/").content.decode()
        assert "Pod" in page
        browser.post(f"/settings/authorised-apps/{app.pk}/revoke/")
        assert list(AccessToken.objects.values_list("token", flat=True)) == ["other-token"]
        assert RefreshToken.objects.get(token="mine-refresh").revoked is not None
        assert_error(ApiClient("mine-token").get("/user"), 401, "unauthorized")


@pytest.mark.django_db
class TestPersonalTokens:
    def test_create_shows_token_once_and_it_works(self, browser):
        response = browser.post("/settings/tokens/", {"name": "script", "scopes": ["thing"]})
        assert response.status_code == 200
        raw = response.context["created"]["raw"]
        assert raw in response.content.decode()
        assert raw not in browser.get("/settings/tokens/").content.decode()
        client = ApiClient(raw)
        assert client.get("/user").json()["username"] == "dev"
        assert client.post("/things", {"url": "https://dev.example/x"}).status_code == 201

    def test_revoke(self, browser):
        token, raw = api_services.personal_token_create(user=browser.user, name="s", scopes="")
        browser.post(f"/settings/tokens/{token.pk}/revoke/")
        assert PersonalToken.objects.get().revoked_at is not None
        assert_error(ApiClient(raw).get("/user"), 401, "unauthorized")

    def test_someone_elses_token_cannot_be_revoked(self, browser):
        token, raw = api_services.personal_token_create(user=UserFactory(), name="s", scopes="")
        browser.post(f"/settings/tokens/{token.pk}/revoke/")
        assert ApiClient(raw).get("/user").status_code == 200

    def test_token_needs_a_name(self, browser):
        response = browser.post("/settings/tokens/", {"name": "", "scopes": ["thing"]})
        assert response.status_code == 400
        assert not PersonalToken.objects.exists()


@pytest.mark.django_db
def test_settings_page_links_to_the_api_pages(browser):
    html = browser.get("/settings/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    for path in ["/settings/authorised-apps/", "/settings/tokens/", "/settings/apps/"]:
        assert path in html
    assert "Applications autorisées" in html
