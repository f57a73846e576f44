"""schemathesis against the schema the app serves (/rest/v2/openapi.json),
through the WSGI application: no server error and no answer that breaks the
schema (shape, status code, content type). Bounded: a few examples per
operation, well under two minutes."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import token_for
from tests.factories import FlattrFactory, ThingFactory, UserFactory, fund

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


@pytest.fixture
def api_schema(db, settings):
    # As Django's test client does: the request cycle must not close the
    # test's connection (its transaction holds the fixtures).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/rest/v2/openapi.json", get_wsgi_application())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db, settings):
    settings.FLATTR_API_RATE_LIMIT = 1_000_000
    supporter = UserFactory(username="fuzzer")
    fund(supporter, 100_000)
    thing = ThingFactory(owner=UserFactory(username="maker"), tags="a, b")
    FlattrFactory(thing=thing)
    ThingFactory(owner=supporter)
    return {"Authorization": f"Bearer {token_for(supporter)}"}


def operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


def test_api_conforms_to_its_schema(api_schema, bearer):
    failures = []
    count = 0
    statuses: list[int] = []
    for operation in operations(api_schema):
        count += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            response = case.call_and_validate(headers=bearer, checks=CHECKS)
            statuses.append(response.status_code)

        try:
            check()
        except Exception as exc:  # collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert count >= 25
    assert len(statuses) >= 3 * count
    assert any(200 <= s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses)
    print(f"schemathesis: {count} operations, {len(statuses)} calls")
    assert not failures, "\n\n".join(failures)
