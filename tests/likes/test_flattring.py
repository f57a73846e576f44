"""likes.flattring: a page of likes becomes flattrs once, within the cap,
through the button's flattr rule; skips say why."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from buttons.models import AutoSubmitPolicy, Flattr, Thing, VerifiedSite
from buttons.services import FlattrRefused, current_period, flattr_create
from claims import proof_services, proofs
from likes.flattring import RemoteLike, likes_record
from likes.models import AccountKind, Like, LikeState
from likes.services import LikeError, like_flattr_by_hand, like_settings_set
from tests.factories import UserFactory, fund, supporter, thing
from tests.likes.helpers import account

pytestmark = pytest.mark.django_db


def _likes(n, start=0, host="https://blog.example.net"):
    """``n`` likes made in the last minutes, the last one the newest."""
    now = timezone.now()
    return [
        RemoteLike(str(i), f"{host}/post/{i}", f"Post {i}", now - dt.timedelta(seconds=n - k))
        for k, i in enumerate(range(start, start + n))
    ]


def test_new_likes_become_flattrs_with_the_source_of_their_kind():
    user = supporter()
    acc = account(user, kind=AccountKind.GITHUB, url="https://api.github.com")
    outcome = likes_record(account=acc, likes=_likes(3))
    assert (outcome.likes_seen, outcome.flattrs, outcome.waiting) == (3, 3, 0)
    flattrs = Flattr.objects.filter(supporter=user)
    assert sorted(f.source for f in flattrs) == ["github"] * 3
    # New things, unclaimed (no proof, no verified site), at the normalised URL.
    assert sorted(t.url for t in Thing.objects.all()) == [
        f"https://blog.example.net/post/{i}" for i in range(3)
    ]
    assert not Thing.objects.filter(owner__isnull=False).exists()
    likes = Like.objects.filter(account=acc)
    assert {(like.state, like.period) for like in likes} == {("flattred", current_period())}
    assert all(like.thing_id for like in likes)


def test_the_same_like_is_never_flattred_twice():
    user = supporter()
    acc = account(user)
    likes_record(account=acc, likes=_likes(2))
    again = likes_record(account=acc, likes=_likes(2))
    assert again.likes_seen == 0 and again.flattrs == 0
    assert Flattr.objects.filter(supporter=user).count() == 2
    assert Like.objects.filter(account=acc).count() == 2


def test_likes_before_connecting_and_baseline_are_skipped():
    user = supporter()
    acc = account(user, connected_at=timezone.now())
    old = RemoteLike("old", "https://x.example/old", "", timezone.now() - dt.timedelta(days=2))
    outcome = likes_record(account=acc, likes=[old])
    assert outcome.skipped == {"before_connecting": 1}
    # The first read of a source that does not date likes: undated ones
    # were there before connecting; dated ones are judged by their date.
    undated = [RemoteLike(str(i), f"https://x.example/{i}") for i in range(2)]
    dated = RemoteLike("new", "https://x.example/new", "", timezone.now())
    outcome = likes_record(account=acc, likes=[*undated, dated], baseline=True)
    assert outcome.skipped == {"before_connecting": 2}
    assert outcome.flattrs == 1
    assert Flattr.objects.get().thing.url == "https://x.example/new"


def test_past_the_cap_likes_wait_and_can_be_flattred_by_hand(settings):
    settings.FLATTR_LIKES_PER_MONTH = 2
    user = supporter()
    acc = account(user)
    outcome = likes_record(account=acc, likes=_likes(5))
    assert (outcome.flattrs, outcome.waiting) == (2, 3)
    # The oldest likes take the cap.
    flattred = set(Like.objects.filter(state="flattred").values_list("remote_id", flat=True))
    assert flattred == {"0", "1"}
    waiting = Like.objects.filter(state="waiting").order_by("remote_id")
    assert not Thing.objects.filter(url__endswith="/post/4").exists()

    like = like_flattr_by_hand(user=user, like_id=waiting[0].pk)
    assert like.state == LikeState.FLATTRED and like.thing.url.endswith("/post/2")
    assert Flattr.objects.filter(supporter=user, thing=like.thing, source="feed").exists()
    with pytest.raises(LikeError) as refused:
        like_flattr_by_hand(user=user, like_id=like.pk)
    assert refused.value.code == "not_waiting"
    with pytest.raises(LikeError) as refused:
        like_flattr_by_hand(user=UserFactory(), like_id=waiting[1].pk)
    assert refused.value.code == "not_found"


def test_per_supporter_cap_overrides_the_default(settings):
    settings.FLATTR_LIKES_PER_MONTH = 50
    user = supporter()
    like_settings_set(user=user, likes_per_month=1)
    outcome = likes_record(account=account(user), likes=_likes(3))
    assert (outcome.flattrs, outcome.waiting) == (1, 2)


def test_refused_likes_do_not_use_the_cap(settings):
    settings.FLATTR_LIKES_PER_MONTH = 2
    user = supporter()
    hidden = thing(owner=None, url="https://blog.example.net/post/0", hidden=True)
    flattr_create(supporter=user, thing=thing(owner=None, url="https://blog.example.net/post/1"))
    outcome = likes_record(account=account(user), likes=_likes(4))
    assert outcome.skipped == {"hidden": 1, "already_flattred": 1}
    assert (outcome.flattrs, outcome.waiting) == (2, 0)
    assert hidden.flattrs.count() == 0


def _prove_github(user, login):
    proof_services.github_proof_record(user_id=user.pk, login=login, github_user_id=user.pk)


def test_owner_is_who_proved_the_account_or_verified_the_site():
    user = supporter()
    prover, verifier = UserFactory(), UserFactory()
    VerifiedSite.objects.create(owner=verifier, host="verified.example", verified_at=timezone.now())
    _prove_github(prover, "prover")
    likes = [
        RemoteLike("a", "https://github.com/Prover/tool", "prover/tool"),
        RemoteLike("b", "https://verified.example/post", "Post"),
        RemoteLike("c", "https://nobody.example/post", "Other"),
        RemoteLike("d", "https://github.com/someone-else/x", "x"),
    ]
    outcome = likes_record(account=account(user), likes=likes)
    assert outcome.flattrs == 4
    owners = dict(Thing.objects.values_list("url", "owner_id"))
    assert owners == {
        "https://github.com/Prover/tool": prover.pk,
        "https://verified.example/post": verifier.pk,
        "https://nobody.example/post": None,
        "https://github.com/someone-else/x": None,
    }
    # A creator's new thing waits for her, as an auto-submitted one does.
    assert Thing.objects.get(owner=prover).pending


def test_owners_for_urls_agrees_with_owner_for_url():
    alice, bob = UserFactory(), UserFactory()
    _prove_github(alice, "alice")
    _prove_github(bob, "bob")
    urls = [
        "https://github.com/alice/one",
        "https://github.com/ALICE",
        "https://github.com/bob/two/issues/3",
        "https://github.com/carol/three",
        "https://elsewhere.example/alice/one",
        "not a url",
    ]
    assert proofs.owners_for_urls(urls) == {url: proofs.owner_for_url(url) for url in urls}
    assert proofs.owners_for_urls(urls)["https://github.com/alice/one"] == alice.pk


def test_own_post_is_skipped_and_no_thing_is_made():
    user = supporter()
    _prove_github(user, "me")
    likes = [RemoteLike("1", "https://github.com/me/mine", "mine")]
    outcome = likes_record(account=account(user), likes=likes)
    assert outcome.skipped == {"own_thing": 1}
    assert not Thing.objects.exists()


def test_creator_policy_refusing_auto_submit_skips():
    user, creator = supporter(), UserFactory()
    _prove_github(creator, "maker")
    AutoSubmitPolicy.objects.create(owner=creator, enabled=False)
    likes = [RemoteLike("1", "https://github.com/maker/tool", "tool")]
    outcome = likes_record(account=account(user), likes=likes)
    assert outcome.skipped == {"refused": 1}
    assert not Thing.objects.exists()


def test_existing_thing_is_used():
    user = supporter()
    existing = thing(owner=None, url="https://blog.example.net/post/0")
    likes_record(account=account(user), likes=_likes(1))
    assert Flattr.objects.get(supporter=user).thing == existing
    assert Thing.objects.count() == 1


def test_empty_wallet_likes_wait_for_a_top_up_then_by_hand():
    user = UserFactory()
    outcome = likes_record(account=account(user), likes=_likes(2))
    assert (outcome.waiting, outcome.flattrs) == (2, 0)
    assert not Thing.objects.exists()
    like = Like.objects.filter(state="waiting").first()
    with pytest.raises(FlattrRefused) as refused:
        like_flattr_by_hand(user=user, like_id=like.pk)
    assert refused.value.code == "no_means"
    like.refresh_from_db()
    assert like.state == LikeState.WAITING
    assert not Thing.objects.exists()  # the refused flattr left no thing behind
    fund(user, 500)
    assert like_flattr_by_hand(user=user, like_id=like.pk).state == LikeState.FLATTRED


def test_by_hand_refused_by_the_rule_records_the_reason(settings):
    settings.FLATTR_LIKES_PER_MONTH = 0
    user = supporter()
    likes_record(account=account(user), likes=_likes(1))
    like = Like.objects.get(state="waiting")
    thing(owner=None, url=like.url, hidden=True)
    with pytest.raises(FlattrRefused) as refused:
        like_flattr_by_hand(user=user, like_id=like.pk)
    assert refused.value.code == "thing_unavailable"
    like.refresh_from_db()
    assert (like.state, like.reason) == ("skipped", "hidden")


def test_bad_urls_are_skipped():
    user = supporter()
    likes = [RemoteLike("x", "javascript:alert(1)"), RemoteLike("y", "ftp://a.example/f")]
    outcome = likes_record(account=account(user), likes=likes)
    assert outcome.skipped == {"bad_url": 2}


def test_queries_per_page_do_not_grow_with_likes():
    user = supporter()
    acc = account(user)
    _prove_github(UserFactory(), "maker")
    # GitHub addresses: whose proven account made them is asked too.
    with CaptureQueriesContext(connection) as few:
        likes_record(account=acc, likes=_likes(2, start=0, host="https://github.com/maker"))
    with CaptureQueriesContext(connection) as many:
        likes_record(account=acc, likes=_likes(40, start=100, host="https://github.com/maker"))
    assert len(many) == len(few), [q["sql"][:80] for q in many]
    assert Flattr.objects.filter(supporter=user).count() == 42


@pytest.mark.parametrize(
    "language, liked, subject",
    [
        ("en", "Sophie liked “prover/tool” (https://github.com/Prover/tool)", "A supporter’s like"),
        ("fr", "Sophie a aimé « prover/tool » (https://github.com/Prover/tool)", "Un « j’aime »"),
    ],
)
def test_the_creator_is_told_a_like_made_her_thing_not_a_button(language, liked, subject):
    from notifications import emails
    from notifications.models import Email, Event, NotificationSettings
    from notifications.services import event_dispatch

    user = supporter()
    user.display_name = "Sophie"
    user.save(update_fields=["display_name"])
    prover = UserFactory()
    NotificationSettings.objects.create(user=prover, language=language)
    _prove_github(prover, "prover")
    likes_record(
        account=account(user),
        likes=[RemoteLike("a", "https://github.com/Prover/tool", "prover/tool")],
    )
    event = Event.objects.get(type="thing.submitted", recipient=prover)
    (email_id,), _deliveries = event_dispatch(key=event.key)
    message = emails.email_render(email=Email.objects.get(pk=email_id))
    html = message.alternatives[0][0]
    for text in (message.body, html.replace("&amp;", "&")):
        assert liked in " ".join(text.split())
        assert "auto-submit" not in text and "proposition automatique" not in text
    assert message.subject.startswith(subject)
