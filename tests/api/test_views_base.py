"""What every resource shares: error bodies, tokens and scopes, rate limits,
CORS, content negotiation, old clients' input conventions, body limits."""

import json

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from api import services as api_services
from buttons.models import Thing
from tests.api.conftest import ApiClient, assert_error, token_for


@pytest.mark.django_db
class TestErrors:
    def test_unknown_path_is_json_404(self, anon):
        assert_error(anon.get("/no/such/thing"), 404, "not_found")

    def test_unknown_post_path_is_json_404_not_csrf_html(self, anon):
        assert_error(anon.post("/no/such/thing", {"a": 1}), 404, "not_found")

    def test_unknown_thing_id_is_not_found(self, anon):
        assert_error(anon.get("/things/999999"), 404, "not_found")

    def test_stream_json_accept_still_gets_json(self, anon, thing):
        response = anon.get(f"/things/{thing.pk}", HTTP_ACCEPT="application/stream+json")
        assert response.status_code == 200
        assert response.json()["id"] == thing.pk

    @pytest.mark.parametrize("accept", ["text/xml", "application/yaml", "text/html"])
    def test_any_accept_header_gets_json_never_406(self, anon, accept):
        response = anon.get("/categories", HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")

    def test_errors_with_html_accept_are_still_json(self, anon):
        assert_error(anon.get("/things/999999", HTTP_ACCEPT="text/html"), 404, "not_found")

    def test_wrong_method_is_json_405(self, anon):
        response = anon.client.put("/rest/v2/categories")
        assert_error(response, 405, "method_not_allowed")


@pytest.mark.django_db
class TestTokens:
    def test_resource_needing_a_token_without_one_is_unauthorized(self, anon):
        response = anon.get("/user")
        assert_error(response, 401, "unauthorized")
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_unknown_token_is_unauthorized(self):
        assert_error(ApiClient("nonsense").get("/user"), 401, "unauthorized")

    def test_unknown_token_on_a_public_resource_is_still_refused(self, thing):
        assert_error(ApiClient("nonsense").get(f"/things/{thing.pk}"), 401, "unauthorized")

    def test_revoked_personal_token_is_unauthorized(self, supporter):
        token, raw = api_services.personal_token_create(user=supporter, name="x", scopes="")
        assert ApiClient(raw).get("/user").status_code == 200
        api_services.personal_token_revoke(user=supporter, token_id=token.pk)
        assert_error(ApiClient(raw).get("/user"), 401, "unauthorized")

    def test_expired_oauth_token_is_unauthorized(self, supporter):
        app = Application.objects.create(
            name="app",
            client_type="confidential",
            authorization_grant_type="authorization-code",
            redirect_uris="https://app.example/cb",
        )
        AccessToken.objects.create(
            user=supporter,
            application=app,
            token="expired-token-value",
            expires=timezone.now() - timezone.timedelta(seconds=1),
            scope="flattr",
        )
        assert_error(ApiClient("expired-token-value").get("/user"), 401, "unauthorized")

    def test_personal_tokens_are_stored_hashed(self, supporter):
        token, raw = api_services.personal_token_create(user=supporter, name="x", scopes="thing")
        token.refresh_from_db()
        assert raw.startswith("flattr_pat_")
        assert raw not in token.token_hash
        assert len(token.token_hash) == 64


@pytest.mark.django_db
class TestScopes:
    def test_token_without_thing_scope_cannot_create(self, supporter):
        client = ApiClient(token_for(supporter, scopes="flattr"))
        response = client.post("/things", {"url": "https://a.example/x"})
        assert_error(response, 403, "insufficient_scope")
        assert not Thing.objects.exists()

    def test_token_without_flattr_scope_cannot_flattr(self, supporter, thing):
        client = ApiClient(token_for(supporter, scopes="thing"))
        assert_error(client.post(f"/things/{thing.pk}/flattr"), 403, "insufficient_scope")
        assert not thing.flattrs.exists()

    def test_email_needs_email_or_extendedread(self, supporter):
        plain = ApiClient(token_for(supporter, scopes="flattr")).get("/user").json()
        assert "email" not in plain and "registered_at" not in plain
        with_email = ApiClient(token_for(supporter, scopes="email")).get("/user").json()
        assert with_email["email"] == supporter.email
        assert "registered_at" not in with_email
        extended = ApiClient(token_for(supporter, scopes="extendedread")).get("/user").json()
        assert extended["email"] == supporter.email
        assert isinstance(extended["registered_at"], int)

    def test_other_users_never_show_email(self, api, creator):
        assert "email" not in api.get(f"/users/{creator.username}").json()


@pytest.mark.django_db
class TestRateLimit:
    def test_headers_count_requests(self, anon, settings):
        settings.FLATTR_API_RATE_LIMIT = 10
        first = anon.get("/categories")
        second = anon.get("/languages")
        assert first["X-RateLimit-Limit"] == "10"
        assert first["X-RateLimit-Current"] == "1"
        assert first["X-RateLimit-Remaining"] == "9"
        assert second["X-RateLimit-Current"] == "2"
        assert int(second["X-RateLimit-Reset"]) % 3600 == 0

    def test_over_the_limit_is_rate_limit_exceeded(self, api, thing, settings):
        settings.FLATTR_API_RATE_LIMIT = 2
        api.get("/user")
        api.get("/user")
        response = api.post(f"/things/{thing.pk}/flattr")
        assert_error(response, 403, "rate_limit_exceeded")
        assert response["X-RateLimit-Remaining"] == "0"
        assert not thing.flattrs.exists()


@pytest.mark.django_db
class TestCors:
    def test_get_is_open_to_every_origin(self, anon, thing):
        response = anon.get(f"/things/{thing.pk}", HTTP_ORIGIN="https://elsewhere.example")
        assert response["Access-Control-Allow-Origin"] == "*"

    def test_post_answers_carry_no_cors_header(self, api, thing):
        response = api.post(f"/things/{thing.pk}/flattr", HTTP_ORIGIN="https://evil.example")
        assert "Access-Control-Allow-Origin" not in response

    def test_preflight_allows_reads_only(self, anon):
        response = anon.client.options(
            "/rest/v2/things/search",
            HTTP_ORIGIN="https://elsewhere.example",
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        )
        assert response.status_code == 204
        assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
        assert "Authorization" in response["Access-Control-Allow-Headers"]


@pytest.mark.django_db
class TestOldClientInput:
    def test_trailing_slash_is_accepted(self, anon, thing):
        assert anon.get(f"/things/{thing.pk}/").json()["id"] == thing.pk

    def test_json_suffix_is_accepted(self, anon, thing):
        assert anon.get(f"/things/{thing.pk}.json").json()["id"] == thing.pk

    def test_post_with_trailing_slash_is_not_a_csrf_failure(self, api, thing):
        assert api.post(f"/things/{thing.pk}/flattr/").status_code == 200

    def test_form_body_and_method_override_patch(self, creator_api, thing):
        response = creator_api.client.post(
            f"/rest/v2/things/{thing.pk}",
            "_method=patch&title=Renamed&hidden=True",
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=f"Bearer {creator_api.token}",
        )
        assert response.status_code == 200, response.content
        assert response.json()["message"] == "ok"
        thing.refresh_from_db()
        assert thing.title == "Renamed" and thing.unlisted is True and not thing.hidden

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("1", True), ("0", False), ("true", True), ("False", False), (True, True)],
    )
    def test_booleans_in_every_old_spelling(self, creator_api, value, expected):
        response = creator_api.post("/things", {"url": "https://b.example/x", "hidden": value})
        assert response.status_code == 201
        assert Thing.objects.get(pk=response.json()["id"]).unlisted is expected

    def test_bad_boolean_is_invalid_parameters(self, creator_api):
        response = creator_api.post("/things", {"url": "https://b.example/x", "hidden": "maybe"})
        assert_error(response, 400, "invalid_parameters")
        assert not Thing.objects.exists()

    def test_invalid_json_is_invalid_request(self, api):
        response = api.client.post(
            "/rest/v2/flattr",
            "{not json",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {api.token}",
        )
        assert_error(response, 400, "invalid_request")

    def test_json_array_body_is_invalid_request(self, creator_api):
        response = creator_api.client.post(
            "/rest/v2/things",
            json.dumps(["https://a.example"]),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {creator_api.token}",
        )
        assert_error(response, 400, "invalid_request")

    def test_a_one_megabyte_body_is_refused_and_writes_nothing(self, creator_api):
        body = json.dumps({"url": "https://a.example/x", "description": "x" * 1_000_000})
        response = creator_api.client.post(
            "/rest/v2/things",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {creator_api.token}",
        )
        assert_error(response, 400, "invalid_request")
        assert not Thing.objects.exists()

    @pytest.mark.parametrize("params", [{"count": "0"}, {"count": "101"}, {"page": "x"}])
    def test_bad_paging_is_invalid_parameters(self, anon, params):
        assert_error(anon.get("/things/search", params), 400, "invalid_parameters")
