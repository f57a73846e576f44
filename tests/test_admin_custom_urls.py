"""Every custom admin URL of every app refuses a staff user without
permissions (issue 22, item 3).

The URLs are discovered from ``admin.site._registry``: each ModelAdmin's
``get_urls()`` entries beyond Django's standard ones, so a view added later
is covered without touching this test. For each one, a superuser first
proves the URL reaches a real view (neither 403 nor 404, with an object of
the admin's model as ``pk``); then a staff user with no permission gets 403
(or the login page) on GET and on POST, never the content.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.contrib import admin

from funding.models import Charge, ChargeStatus
from payments.withdrawals.services import withdrawal_request
from payouts import services
from tests.factories import UserFactory, flattr, supporter, thing
from tests.withdrawals.helpers import creator_with

pytestmark = pytest.mark.django_db

# Values a custom URL's string parameters take, by parameter name. A new
# string parameter must be added here (the test says so).
STRING_VALUES = {
    "action": ["approve", "recompute", "cancel", "reject"],
    "kind": ["supporters", "creators"],
}
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def custom_urls() -> list[tuple[admin.ModelAdmin, str]]:
    """(model admin, route) of every custom admin URL."""
    found = []
    for model, model_admin in admin.site._registry.items():
        standard = {str(p.pattern) for p in admin.ModelAdmin.get_urls(model_admin)}
        for pattern in model_admin.get_urls():
            route = str(pattern.pattern)
            if route not in standard:
                found.append((model_admin, route))
    return found


def paths_for(model_admin: admin.ModelAdmin, route: str) -> list[str]:
    """Concrete paths of ``route``: every string value, each object's pk."""
    meta = model_admin.model._meta
    prefix = f"/admin/{meta.app_label}/{meta.model_name}/"
    choices = []
    for match in PARAMETER.finditer(route):
        converter, name = match["converter"] or "str", match["name"]
        if converter == "int" or name in ("pk", "id", "object_id"):
            pks = list(model_admin.model._default_manager.order_by("pk").values_list("pk")[:20])
            assert pks, f"create a {meta.model_name} in this test's world for {route}"
            choices.append([str(pk) for (pk,) in pks])
        else:
            assert name in STRING_VALUES, f"add the values of <{name}> ({route}) to STRING_VALUES"
            choices.append(STRING_VALUES[name])
    paths = []
    for values in itertools.product(*choices):
        values_left = iter(values)
        paths.append(prefix + PARAMETER.sub(lambda _m: next(values_left), route))
    return paths


@pytest.fixture
def world(settings):
    """A computed payout run, wallets, a claim: an object for every admin."""
    settings.DEBUG = True  # the payout demo view exists only then
    creator = UserFactory()
    fan = supporter(budget=200)
    flattr(fan, thing(owner=creator), dt.date(2026, 9, 1))
    flattr(fan, thing(owner=None), dt.date(2026, 9, 1))
    run = services.payout_run_compute(period=dt.date(2026, 9, 1))
    # A charge of pay after the month (its retry page is a custom URL).
    Charge.objects.create(run=run, supporter=fan, amount=180, status=ChargeStatus.FAILED)
    # A withdrawal waiting for review (its review page is a custom URL).
    withdrawal_request(user=creator_with(net=50_000), amount_cents=30_000)


def is_refused(response) -> bool:
    if response.status_code == 403:
        return True
    return response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_discovery_finds_the_known_custom_urls():
    routes = {route for _admin, route in custom_urls()}
    assert "<int:pk>/export/<str:kind>.csv" in routes
    assert "<int:pk>/adjust/" in routes


def test_every_custom_admin_url_refuses_staff_without_permissions(client, world):
    boss = UserFactory(is_staff=True, is_superuser=True)
    nobody = UserFactory(is_staff=True)
    assert not nobody.get_all_permissions()
    checked = 0
    for model_admin, route in custom_urls():
        reachable = []
        for url in paths_for(model_admin, route):
            client.force_login(boss)
            if client.get(url).status_code not in (403, 404):
                reachable.append(url)
        assert reachable, f"{route}: no path reaches its view, even for a superuser"
        client.force_login(nobody)
        for url in reachable:
            for method in (client.get, client.post):
                response = method(url)
                assert is_refused(response), (
                    f"{method.__name__.upper()} {url} answered {response.status_code} to a"
                    " staff user without permissions"
                )
                checked += 1
    assert checked
