"""Setting a creator's list of onward shares: the service and the command."""

import pytest
from django.core.management import CommandError, call_command

from buttons.models import Thing
from payouts.models import OnwardShare
from payouts.onward import OnwardRefused, onward_set
from tests.factories import UserFactory, thing

pytestmark = pytest.mark.django_db


@pytest.fixture
def claire():
    return UserFactory(username="claire", email="claire@example.org")


def listed(creator):
    return [
        (s.target_user_id, s.target_thing_id, s.percent)
        for s in OnwardShare.objects.filter(creator=creator).order_by("position")
    ]


def test_the_list_is_replaced_whole(claire):
    bob = UserFactory(username="Bob")
    song = thing(owner=UserFactory())
    onward_set(creator=claire, entries=[("@bob", "10"), (str(song.pk), 5)])
    assert listed(claire) == [(bob.pk, None, 10), (None, song.pk, 5)]
    onward_set(creator=claire, entries=[(str(song.pk), "100")])
    assert listed(claire) == [(None, song.pk, 100)]
    onward_set(creator=claire, entries=[])
    assert listed(claire) == []


def test_an_address_finds_the_owned_thing_or_makes_an_unclaimed_one(claire):
    owned = thing(owner=UserFactory(), url="https://music.example.org/song")
    onward_set(
        creator=claire,
        entries=[("https://MUSIC.example.org/song", "10"), ("https://lib.example.net/x", "20")],
    )
    made = Thing.objects.get(url="https://lib.example.net/x")
    assert made.owner is None
    assert listed(claire) == [(None, owned.pk, 10), (None, made.pk, 20)]
    # Named again: the same unclaimed thing, not a second one.
    onward_set(creator=claire, entries=[("https://lib.example.net/x", "20")])
    assert Thing.objects.filter(url="https://lib.example.net/x").count() == 1


def test_our_own_thing_page_names_its_thing(claire, settings):
    song = thing(owner=UserFactory())
    onward_set(creator=claire, entries=[(f"{settings.SITE_URL}/things/{song.pk}/", "7")])
    assert listed(claire) == [(None, song.pk, 7)]


@pytest.mark.parametrize(
    "entries, message",
    [
        ([("@bob", "1.5")], "not a percent"),
        ([("@bob", "0")], "not a percent"),
        ([("@bob", "-5")], "not a percent"),
        ([("@bob", "101")], "not a percent"),
        ([("@bob", "60"), ("@dora", "41")], "add up to 102"),
        ([("@nobody", "5")], "no creator @nobody"),
        ([("@claire", "5")], "yourself"),
        ([("999999", "5")], "no thing 999999"),
        ([("own", "5")], "your own thing"),
        ([("@bob", "5"), ("@BOB", "5")], "named twice"),
        ([("ftp://example.org/x", "5")], "not a target"),
        ([("https://user:pw@example.org/x", "5")], "user name or password"),
        ([(f"@u{i}", "1") for i in range(21)], "at most 20"),
    ],
)
def test_bad_lists_are_refused_and_nothing_changes(claire, entries, message):
    UserFactory(username="bob")
    UserFactory(username="dora")
    for i in range(21):
        UserFactory(username=f"u{i}")
    mine = thing(owner=claire)
    entries = [(str(mine.pk) if t == "own" else t, p) for t, p in entries]
    onward_set(creator=claire, entries=[("@dora", "3")])
    before, things = listed(claire), Thing.objects.count()
    with pytest.raises(OnwardRefused, match=message):
        onward_set(creator=claire, entries=[*entries, ("https://new.example.org/", "1")][::-1])
    assert listed(claire) == before
    assert Thing.objects.count() == things  # no unclaimed thing made either


def test_the_database_refuses_a_share_with_two_targets(claire):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        OnwardShare.objects.create(
            creator=claire, target_user=UserFactory(), target_thing=thing(), percent=5
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        OnwardShare.objects.create(creator=claire, target_user=UserFactory(), percent=0)


class TestCommand:
    def test_sets_and_clears(self, claire, capsys):
        bob = UserFactory(username="bob")
        call_command("onward_set", "claire@example.org", "@bob", "10")
        assert "passes on 10% to @bob" in capsys.readouterr().out
        assert listed(claire) == [(bob.pk, None, 10)]
        call_command("onward_set", "claire@example.org")
        assert listed(claire) == []

    @pytest.mark.parametrize(
        "args, message",
        [
            (["nobody@example.org", "@bob", "5"], "no user with e-mail"),
            (["claire@example.org", "@bob"], "TARGET PERCENT pairs"),
            (["claire@example.org", "@bob", "5", "@bob", "6"], "named twice"),
            (["claire@example.org", "@bob", "x"], "not a percent"),
        ],
    )
    def test_errors_are_one_line_and_save_nothing(self, claire, args, message):
        UserFactory(username="bob")
        with pytest.raises(CommandError, match=message) as info:
            call_command("onward_set", *args)
        assert "\n" not in str(info.value)
        assert listed(claire) == []
