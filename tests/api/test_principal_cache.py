"""The cached principal of a bearer token and the cached marks of a caller
(api.authentication, api.selectors.viewer_marks): a busy token costs no
query, and what changes a token, its user or the caller's flattrs is seen
by the very next request."""

import datetime as dt
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from api import services as api_services
from tests.api.conftest import ApiClient, assert_error, token_for


def _queries(call) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    return response, [q["sql"] for q in queries.captured_queries]


def test_a_busy_token_reads_a_thing_without_a_query(supporter, thing):
    client = ApiClient(token_for(supporter))
    assert client.get(f"/things/{thing.pk}").status_code == 200
    response, queries = _queries(lambda: client.get(f"/things/{thing.pk}"))
    assert response.status_code == 200
    assert response.json()["flattred"] is False
    assert queries == []


def test_a_revoked_personal_token_is_refused_at_once(supporter):
    token, raw = api_services.personal_token_create(user=supporter, name="x", scopes="")
    client = ApiClient(raw)
    assert client.get("/user").status_code == 200
    assert client.get("/user").status_code == 200  # from the cache
    api_services.personal_token_revoke(user=supporter, token_id=token.pk)
    assert_error(client.get("/user"), 401, "unauthorized")
    assert_error(client.get("/user"), 401, "unauthorized")


def test_a_deactivated_user_is_refused_at_once(supporter):
    client = ApiClient(token_for(supporter))
    assert client.get("/user").status_code == 200
    supporter.is_active = False
    supporter.save()
    assert_error(client.get("/user"), 401, "unauthorized")


def test_a_profile_change_shows_at_once(supporter):
    client = ApiClient(token_for(supporter))
    assert client.get("/user").json()["username"] == "sam"
    supporter.username = "samuel"
    supporter.save()
    assert client.get("/user").json()["username"] == "samuel"


def test_a_deleted_oauth_token_is_refused_and_expiry_still_checked(supporter):
    app = Application.objects.create(
        name="app",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://app.example/cb",
    )
    token = AccessToken.objects.create(
        user=supporter,
        application=app,
        token="oauth-token-1",
        expires=timezone.now() + dt.timedelta(hours=1),
        scope="flattr",
    )
    client = ApiClient("oauth-token-1")
    assert client.get("/user").status_code == 200
    api_services.authorised_app_revoke(user=supporter, application_id=app.pk)
    assert_error(client.get("/user"), 401, "unauthorized")

    AccessToken.objects.create(
        user=supporter,
        application=app,
        token="oauth-token-2",
        expires=timezone.now() + dt.timedelta(seconds=2),
        scope="flattr",
    )
    client = ApiClient("oauth-token-2")
    assert client.get("/user").status_code == 200  # cached now
    assert token.pk  # the first token's row is gone, the second one is cached
    later = timezone.now() + dt.timedelta(seconds=5)
    with mock.patch("api.authentication.timezone.now", return_value=later):
        assert_error(client.get("/user"), 401, "unauthorized")


def test_a_flattr_shows_in_the_marks_at_once(supporter, thing):
    client = ApiClient(token_for(supporter))
    assert client.get(f"/things/{thing.pk}").json()["flattred"] is False
    assert client.get(f"/things/{thing.pk}").json()["flattred"] is False  # cached
    assert client.post(f"/things/{thing.pk}/flattr").status_code == 200
    assert client.get(f"/things/{thing.pk}").json()["flattred"] is True
    # Once only, still.
    assert_error(client.post(f"/things/{thing.pk}/flattr"), 403, "flattr_once")
