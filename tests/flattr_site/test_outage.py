"""A database outage answers 503 with Retry-After, not 500 (issue 22, item
7): an HTML page saying the platform is briefly unavailable (in French too),
JSON under /rest/ and /oauth/. Connections are checked before reuse."""

import json
import socket
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import close_old_connections, connection, connections
from django.test import Client

from tests.factories import ThingFactory, UserFactory


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def database_away():
    """The default connection points at a port nobody listens on, as when
    PostgreSQL is down; restored (and reconnected) afterwards."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@contextmanager
def connection_killed():
    """The server ends the default connection (pg_terminate_backend from
    another session), as a PostgreSQL restart does to pooled connections."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    try:
        yield
    finally:
        connection.close()


def client() -> Client:
    return Client(raise_request_exception=False)


def assert_unavailable(response):
    assert response.status_code == 503, (response.status_code, response.content[:300])
    assert int(response["Retry-After"]) > 0


@pytest.fixture
def thing(transactional_db):
    return ThingFactory(owner=UserFactory(username="olga"))


@pytest.mark.parametrize("path", ["/explore/", "/things/{pk}/", "/u/olga/"])
def test_pages_answer_503_while_the_database_is_away(thing, path):
    with database_away():
        response = client().get(path.format(pk=thing.pk))
    assert_unavailable(response)
    assert response["Content-Type"].startswith("text/html")
    assert "briefly unavailable" in response.content.decode()


def test_the_page_speaks_french(thing):
    with database_away():
        response = client().get("/explore/", HTTP_ACCEPT_LANGUAGE="fr")
    assert_unavailable(response)
    assert "momentanément indisponible" in response.content.decode()


def test_a_flattr_answers_503_while_the_database_is_away(thing):
    supporter = UserFactory(username="sid", wallet_cents=1000)
    browser = client()
    browser.force_login(supporter)
    with database_away():
        response = browser.post(f"/things/{thing.pk}/flattr/")
    assert_unavailable(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/rest/v2/things/{pk}"), ("get", "/rest/v2/users/olga"), ("post", "/oauth/token")],
)
def test_api_and_oauth_answer_json_503(thing, method, path):
    with database_away():
        data = {"grant_type": "authorization_code", "code": "c", "client_id": "app"}
        response = getattr(client(), method)(path.format(pk=thing.pk), data)
    assert_unavailable(response)
    body = json.loads(response.content)
    assert body["error"] == "temporarily_unavailable"
    assert body["error_description"]


def test_a_connection_the_server_closed_answers_503_not_500(thing):
    with connection_killed():
        response = client().get("/explore/")
    assert_unavailable(response)


def test_a_killed_pooled_connection_is_replaced_before_the_next_request(thing):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    with connection_killed():
        # What a server does when a request starts (the test client skips
        # it): with health checks, a dead pooled connection is closed here.
        close_old_connections()
        response = client().get("/explore/")
    assert response.status_code == 200
