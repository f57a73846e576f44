"""GET and PUT /rest/v2/user/onward: a creator's onward shares through the
API (scope thing), bad lists refused with the service's reason and nothing
saved, and what the latest posted run passed on (issue 26)."""

import pytest

from buttons.models import Thing
from payouts import services
from payouts.models import OnwardShare
from payouts.onward import onward_set
from tests.api.conftest import ApiClient, assert_error, token_for
from tests.factories import UserFactory, flattr, supporter, thing
from tests.payouts.helpers import P

pytestmark = pytest.mark.django_db


@pytest.fixture
def claire():
    return UserFactory(username="claire")


@pytest.fixture
def bob():
    return UserFactory(username="bob")


@pytest.fixture
def claire_api(claire):
    return ApiClient(token_for(claire, scopes="thing"))


def listed(creator):
    return [
        (s.target_user_id, s.target_thing_id, s.percent)
        for s in OnwardShare.objects.filter(creator=creator).order_by("position")
    ]


def test_put_replaces_the_list_and_get_reads_it_back(claire, bob, claire_api):
    song = thing(owner=UserFactory(username="dora"), title="A song")
    response = claire_api.put(
        "/user/onward",
        {
            "shares": [
                {"target": "@Bob", "percent": 10},
                {"target": song.pk, "percent": "5"},
                {"target": "https://lib.example.net/x", "percent": 20},
            ]
        },
    )
    assert response.status_code == 200, response.content
    made = Thing.objects.get(url="https://lib.example.net/x")
    assert made.owner is None
    assert listed(claire) == [(bob.pk, None, 10), (None, song.pk, 5), (None, made.pk, 20)]
    expected = [
        {
            "target": "@bob",
            "type": "user",
            "percent": 10,
            "user": "bob",
            "thing": None,
            "label": "@bob",
        },
        {
            "target": str(song.pk),
            "type": "thing",
            "percent": 5,
            "user": None,
            "thing": song.pk,
            "label": "A song",
        },
        {
            "target": str(made.pk),
            "type": "thing",
            "percent": 20,
            "user": None,
            "thing": made.pk,
            "label": made.title,
        },
    ]
    assert response.json() == {"shares": expected, "total_percent": 35}

    body = claire_api.get("/user/onward").json()
    assert body == {"shares": expected, "total_percent": 35, "last_run": None}

    # The targets read back are accepted as they are; an empty list clears.
    again = claire_api.put("/user/onward", {"shares": body["shares"]})
    assert again.status_code == 200, again.content
    assert listed(claire) == [(bob.pk, None, 10), (None, song.pk, 5), (None, made.pk, 20)]
    cleared = claire_api.put("/user/onward", {"shares": []})
    assert cleared.json() == {"shares": [], "total_percent": 0}
    assert listed(claire) == []


@pytest.mark.parametrize("method", ["get", "put"])
def test_a_token_without_scope_thing_is_refused(claire, bob, method):
    onward_set(creator=claire, entries=[("@bob", 10)])
    client = ApiClient(token_for(claire, scopes="flattr email"))
    if method == "get":
        response = client.get("/user/onward")
    else:
        response = client.put("/user/onward", {"shares": []})
    body = assert_error(response, 403, "insufficient_scope")
    assert "thing" in body["error_description"]
    assert listed(claire) == [(bob.pk, None, 10)]


def test_no_token_is_unauthorized(anon):
    assert_error(anon.get("/user/onward"), 401, "unauthorized")
    assert_error(anon.put("/user/onward", {"shares": []}), 401, "unauthorized")


@pytest.mark.parametrize(
    "shares, reason",
    [
        ([{"target": "@bob", "percent": 1.5}], "not a percent"),
        ([{"target": "@bob", "percent": "7.5"}], "not a percent"),
        ([{"target": "@bob", "percent": True}], "whole number"),
        ([{"target": "@bob", "percent": 60}, {"target": "@dora", "percent": 41}], "add up to 102"),
        ([{"target": "@bob", "percent": -5}], "not a percent"),
        ([{"target": "@bob", "percent": 0}], "not a percent"),
        ([{"target": "@nobody", "percent": 5}], "no creator @nobody"),
        ([{"target": 999999, "percent": 5}], "no thing 999999"),
        ([{"target": "own", "percent": 5}], "your own thing"),
        ([{"target": "@claire", "percent": 5}], "yourself"),
        ([{"target": "https://user:pw@example.org/x", "percent": 5}], "user name or password"),
        ([{"target": "ftp://example.org/x", "percent": 5}], "not a target"),
        ([{"target": "@bob", "percent": 5}, {"target": "@BOB", "percent": 5}], "named twice"),
        ([{"target": f"@u{i}", "percent": 1} for i in range(21)], "at most 20"),
        ([{"target": "@bob"}], '"target" and "percent"'),
        ([{"target": None, "percent": 5}], "a target is"),
        (["@bob"], '"target" and "percent"'),
        ("@bob 10", '"shares" must be a list'),
        (None, '"shares" must be a list'),
    ],
)
def test_a_bad_list_is_a_400_with_the_reason_and_nothing_is_saved(
    claire, bob, claire_api, shares, reason
):
    UserFactory(username="dora")
    for i in range(21):
        UserFactory(username=f"u{i}")
    mine = thing(owner=claire)
    if isinstance(shares, list):
        shares = [
            {**s, "target": mine.pk} if isinstance(s, dict) and s.get("target") == "own" else s
            for s in shares
        ]
        # A new address first: refused lists make no unclaimed thing either.
        shares = [{"target": "https://new.example.org/", "percent": 1}, *shares]
    onward_set(creator=claire, entries=[("@dora", 3)])
    before, things = listed(claire), Thing.objects.count()
    response = claire_api.put("/user/onward", {"shares": shares} if shares is not None else {})
    body = assert_error(response, 400, "invalid_parameters")
    assert reason in body["error_description"]
    assert listed(claire) == before
    assert Thing.objects.count() == things


def test_a_body_that_is_not_an_object_is_refused(claire, claire_api):
    response = claire_api.client.put(
        "/rest/v2/user/onward",
        "[1, 2]",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {claire_api.token}",
    )
    assert_error(response, 400, "invalid_request")
    assert listed(claire) == []


@pytest.fixture
def month(settings):
    """As tests/payouts/test_onward.py: Sophie gives 900, 300 to each of
    Claire's two things and Dora's; fee 10%. Claire (net 540) passes 10% to
    Bob, 33% to Dora's thing and 5% to an unclaimed thing; Dora (net 270)
    passes 50% to Claire."""
    settings.FLATTR_FEE_PERCENT = 10
    claire = UserFactory(username="claire")
    dora = UserFactory(username="dora")
    bob = UserFactory(username="bob")
    sophie = supporter(budget=900, balance=5000, username="sophie")
    dora_thing = thing(owner=dora)
    for t in (thing(owner=claire), thing(owner=claire), dora_thing):
        flattr(sophie, t, P)
    onward_set(
        creator=claire,
        entries=[("@bob", 10), (str(dora_thing.pk), 33), ("https://lib.example.net/", 5)],
    )
    onward_set(creator=dora, entries=[("@claire", 50)])
    return {"claire": claire, "dora": dora, "bob": bob, "dora_thing": dora_thing}


def test_get_shows_what_the_latest_posted_run_passed_on_to_the_cent(month):
    admin = UserFactory(is_staff=True, is_superuser=True)
    claire_api = ApiClient(token_for(month["claire"], scopes="thing"))
    run = services.payout_run_compute(period=P)
    # Computed but not posted: nothing to show yet.
    assert claire_api.get("/user/onward").json()["last_run"] is None
    services.payout_run_approve(run=run, actor=admin, queue=False)
    services.payout_run_post(run_id=run.pk)
    # A later change of the list does not rewrite what the run did.
    onward_set(creator=month["claire"], entries=[("@bob", 100)])

    body = claire_api.get("/user/onward").json()
    held = Thing.objects.get(url="https://lib.example.net/")
    assert body["total_percent"] == 100
    assert body["last_run"] == {
        "period": "2026-09",
        "net": 540,
        "onward_out": 54 + 178 + 27,
        "onward_in": 135,
        "kept": 540 - 259,
        "to": [
            {"to": "bob", "thing": None, "cents": 54},
            {"to": "dora", "thing": month["dora_thing"].pk, "cents": 178},
            {"to": None, "thing": held.pk, "cents": 27},
        ],
    }
    dora = ApiClient(token_for(month["dora"], scopes="thing")).get("/user/onward").json()
    assert dora["last_run"] == {
        "period": "2026-09",
        "net": 270,
        "onward_out": 135,
        "onward_in": 178,
        "kept": 135,
        "to": [{"to": "claire", "thing": None, "cents": 135}],
    }
    # Bob only received: a line of zeros but what came onward.
    bob = ApiClient(token_for(month["bob"], scopes="thing")).get("/user/onward").json()
    assert bob == {
        "shares": [],
        "total_percent": 0,
        "last_run": {
            "period": "2026-09",
            "net": 0,
            "onward_out": 0,
            "onward_in": 54,
            "kept": 0,
            "to": [],
        },
    }


def test_the_schema_describes_both_operations(anon):
    spec = anon.get("/openapi.json").json()
    operations = spec["paths"]["/rest/v2/user/onward"]
    assert {operations["get"]["operationId"], operations["put"]["operationId"]} == {
        "user_onward_get",
        "user_onward_put",
    }
    assert operations["put"]["security"] == [{"oauth2": ["thing"]}]
    assert operations["get"]["security"] == [{"oauth2": ["thing"]}]
    assert "400" in operations["put"]["responses"]
