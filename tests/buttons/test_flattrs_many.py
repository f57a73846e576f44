"""buttons.services.flattrs_create_many: the flattr rule set-based, the same
outcomes as flattr_create one thing at a time, in constant queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buttons.models import Flattr, FlattrSource
from buttons.services import FlattrRefused, flattr_create, flattrs_create_many
from notifications.models import Event
from tests.factories import UserFactory, owe, supporter, thing

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


def _mixed_things(user):
    own = thing(owner=user)
    hidden = thing(hidden=True)
    removed = thing(removed=True)
    unclaimed = thing(owner=None, url="https://unclaimed.example/x")
    fresh = [thing() for _ in range(3)]
    earlier = thing()
    flattr_create(supporter=user, thing=earlier, now=NOW)
    return [fresh[0], own, hidden, fresh[1], removed, unclaimed, earlier, fresh[0], fresh[2]]


def _codes(outcomes):
    return [o.code if isinstance(o, FlattrRefused) else "ok" for o in outcomes]


def _one_by_one(user, things, **kwargs):
    outcomes = []
    for t in things:
        try:
            outcomes.append(flattr_create(supporter=user, thing=t, **kwargs))
        except FlattrRefused as refusal:
            outcomes.append(refusal)
    return outcomes


def _rows(user):
    return sorted(
        Flattr.objects.filter(supporter=user).values_list("thing__url", "period", "source")
    )


def test_many_and_one_by_one_give_identical_outcomes_and_rows():
    many_user, one_user = supporter(), supporter()
    many_things = _mixed_things(many_user)
    one_things = [
        # The same shapes for the other supporter: own thing is theirs.
        t if t.owner_id != many_user.pk else thing(owner=one_user)
        for t in many_things
    ]
    flattr_create(supporter=one_user, thing=one_things[6], now=NOW)

    many = flattrs_create_many(
        supporter=many_user, things=many_things, now=NOW, source=FlattrSource.GITHUB
    )
    one = _one_by_one(one_user, one_things, now=NOW, source=FlattrSource.GITHUB)

    expected = ["ok", "flattr_owner", "thing_unavailable", "ok", "thing_unavailable", "ok",
                "flattr_once", "flattr_once", "ok"]  # fmt: skip
    assert _codes(many) == _codes(one) == expected
    assert [type(o).__name__ for o in many] == [type(o).__name__ for o in one]
    assert Flattr.objects.filter(supporter=many_user, source="github").count() == 4
    assert Flattr.objects.filter(supporter=one_user, source="github").count() == 4
    assert all(o.period == dt.date(2026, 11, 1) for o in many if isinstance(o, Flattr))


def test_owners_hear_of_each_new_flattr_once():
    user = supporter()
    things = [thing() for _ in range(3)]
    flattrs = flattrs_create_many(supporter=user, things=things, now=NOW)
    keys = set(Event.objects.filter(type="flattr.created").values_list("key", flat=True))
    assert keys == {f"flattr:{f.pk}" for f in flattrs}
    assert {e.recipient_id for e in Event.objects.all()} == {t.owner_id for t in things}


@pytest.mark.parametrize(
    ("prepare", "code"),
    [
        (lambda u: None, "no_means"),
        (lambda u: owe(u, 500), "owes_balance"),
    ],
)
def test_means_refuse_every_flattrable_thing_alike(prepare, code):
    many_user = UserFactory()  # empty wallet
    prepare(many_user)
    own = thing(owner=many_user)
    things = [thing(), own, thing(hidden=True)]
    many = flattrs_create_many(supporter=many_user, things=things, now=NOW)
    one = _one_by_one(many_user, things, now=NOW)
    assert _codes(many) == _codes(one) == [code, "flattr_owner", "thing_unavailable"]
    assert not Flattr.objects.filter(supporter=many_user).exists()


def test_queries_do_not_grow_with_the_number_of_things():
    user = supporter()
    small, large = [thing() for _ in range(2)], [thing() for _ in range(40)]
    with CaptureQueriesContext(connection) as two:
        flattrs_create_many(supporter=user, things=small, now=NOW)
    with CaptureQueriesContext(connection) as forty:
        flattrs_create_many(supporter=user, things=large, now=NOW)
    assert len(forty) == len(two) <= 6
    assert Flattr.objects.filter(supporter=user).count() == 42


def test_cached_counts_follow_many_flattrs(django_capture_on_commit_callbacks):
    from buttons import counters
    from buttons.services import period_of

    user = supporter()
    seen, unseen = thing(), thing()
    period = period_of(NOW)
    assert counters.counts(thing_id=seen.pk, period=period) == (0, 0)  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        flattrs_create_many(supporter=user, things=[seen, unseen], now=NOW)
    assert counters.counts(thing_id=seen.pk, period=period) == (1, 1)
    assert counters.counts(thing_id=unseen.pk, period=period) == (1, 1)  # from the database
