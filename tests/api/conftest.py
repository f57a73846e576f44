import json

import pytest
from django.test import Client

from api import services as api_services
from tests.factories import ThingFactory, UserFactory


class ApiClient:
    """A test client speaking to /rest/v2 with a bearer token."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.token = token

    def _headers(self, extra):
        headers = {}
        if self.token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        headers.update(extra)
        return headers

    def get(self, path, params=None, **extra):
        return self.client.get("/rest/v2" + path, params or {}, **self._headers(extra))

    def post(self, path, data=None, *, form=False, **extra):
        if form:
            return self.client.post("/rest/v2" + path, data or {}, **self._headers(extra))
        return self.client.post(
            "/rest/v2" + path,
            json.dumps(data or {}),
            content_type="application/json",
            **self._headers(extra),
        )

    def patch(self, path, data=None, **extra):
        return self.client.patch(
            "/rest/v2" + path,
            json.dumps(data or {}),
            content_type="application/json",
            **self._headers(extra),
        )

    def put(self, path, data=None, **extra):
        return self.client.put(
            "/rest/v2" + path,
            json.dumps(data or {}),
            content_type="application/json",
            **self._headers(extra),
        )

    def delete(self, path, **extra):
        return self.client.delete("/rest/v2" + path, **self._headers(extra))


def token_for(user, scopes="flattr thing email extendedread") -> str:
    _token, raw = api_services.personal_token_create(user=user, name="test", scopes=scopes)
    return raw


@pytest.fixture
def anon():
    return ApiClient()


@pytest.fixture
def supporter(db):
    return UserFactory(username="sam", wallet_cents=1000)


@pytest.fixture
def creator(db):
    return UserFactory(username="cleo")


@pytest.fixture
def thing(creator):
    return ThingFactory(owner=creator, tags="podcast, audio", language="en_GB")


@pytest.fixture
def api(supporter):
    return ApiClient(token_for(supporter))


@pytest.fixture
def creator_api(creator):
    return ApiClient(token_for(creator))


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code, body
    assert body["error_description"]
    assert body["error_uri"].startswith("http")
    # Flattr's other shape, which clients of the lookup and the writes read.
    assert (body["message"], body["description"]) == (code, body["error_description"])
    return body


@pytest.fixture(autouse=True)
def forget_rate_limit_counts():
    from api import ratelimit

    ratelimit.forget_local()
    yield
    ratelimit.forget_local()
