"""The API keeps an anonymous supporter anonymous: their flattrs and their
name appear only where they chose "show my flattrs publicly" (anonymous by
default), as on the web pages. Counts stay whole."""

import pytest

from tests.api.conftest import ApiClient, token_for
from tests.factories import FlattrFactory, ThingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shy(db):
    return UserFactory(username="shy")


@pytest.fixture
def loud(db):
    return UserFactory(username="loud", flattrs_public=True)


@pytest.fixture
def thing(db):
    return ThingFactory(owner=UserFactory(username="cleo"))


def test_an_anonymous_supporters_flattrs_are_not_listed_to_others(anon, shy, loud, thing):
    FlattrFactory(supporter=shy, thing=thing)
    FlattrFactory(supporter=loud, thing=thing)
    assert anon.get("/users/shy/flattrs").json() == []
    assert [f["thing"]["id"] for f in anon.get("/users/loud/flattrs").json()] == [thing.pk]
    # Their own list still holds everything.
    mine = ApiClient(token_for(shy)).get("/user/flattrs").json()
    assert [f["thing"]["id"] for f in mine] == [thing.pk]


def test_a_things_flattrs_name_only_public_supporters(anon, shy, loud, thing):
    FlattrFactory(supporter=shy, thing=thing)
    FlattrFactory(supporter=loud, thing=thing)
    body = anon.get(f"/things/{thing.pk}/flattrs").json()
    assert [f["owner"]["username"] for f in body] == ["loud"]
    assert body[0]["thing"]["flattrs"] == 2  # the count is whole
    # The thing's creator does not learn the anonymous name either.
    creator = ApiClient(token_for(thing.owner)).get(f"/things/{thing.pk}/flattrs").json()
    assert [f["owner"]["username"] for f in creator] == ["loud"]
    # The anonymous supporter sees their own flattr.
    own = ApiClient(token_for(shy)).get(f"/things/{thing.pk}/flattrs").json()
    assert sorted(f["owner"]["username"] for f in own) == ["loud", "shy"]


def test_activities_leave_anonymous_flattrs_out(anon, shy, loud, thing):
    FlattrFactory(supporter=shy, thing=thing)
    FlattrFactory(supporter=loud, thing=thing)
    assert [i["verb"] for i in anon.get("/users/shy/activities").json()["items"]] == []
    assert [i["verb"] for i in anon.get("/users/loud/activities").json()["items"]] == ["like"]
    incoming = ApiClient(token_for(thing.owner)).get("/user/activities", {"type": "incoming"})
    assert [i["actor"]["displayName"] for i in incoming.json()["items"]] == ["loud"]
    outgoing = ApiClient(token_for(shy)).get("/user/activities").json()["items"]
    assert [i["verb"] for i in outgoing] == ["like"]
