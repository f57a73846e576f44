"""A verified feed proves only the feed: it gives its claimant the unclaimed
things on the feed's own host and on hosts the same creator verified, from
item links and enclosures only; anything else waits for staff (issue #22)."""

import pytest
from django.utils import timezone

from buttons.models import Thing, VerifiedSite
from claims import services
from claims.models import Claim, ClaimKind, ClaimMethod, ClaimState
from claims.reasons import reason_text
from tests.factories import ThingFactory, UserFactory
from tests.localsite import LocalSite

pytestmark = pytest.mark.django_db

RSS = {"Content-Type": "application/rss+xml"}


@pytest.fixture
def creator():
    return UserFactory(username="ada")


def unclaimed(url):
    return ThingFactory(owner=None, url=url)


def owner_of(thing):
    thing.refresh_from_db()
    return thing.owner


def verify_feed(site, creator, capture, *, channel_link, items):
    """``creator`` claims the site's feed, which lists ``items`` (links and
    enclosures) under a channel ``<link>``; the claim after its check."""
    claim, token = services.claim_create(
        creator=creator, kind=ClaimKind.FEED, url=site.url("/feed.xml"),
        method=ClaimMethod.PODCAST_TXT,
    )  # fmt: skip
    entries = "".join(
        f'<item><title>i</title><enclosure url="{url}" type="audio/mpeg" length="1"/></item>'
        if url.endswith(".mp3")
        else f"<item><title>i</title><link>{url}</link></item>"
        for url in items
    )
    feed = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Show</title><link>{channel_link}</link>
<image><url>{site.url("/cover.png")}</url><link>{channel_link}</link></image>
<podcast:txt purpose="verify">{token}</podcast:txt>
{entries}
</channel></rss>"""
    site.routes["/feed.xml"] = (200, RSS, feed.encode())
    with capture(execute=True):
        services.claim_check_request(claim=claim)
    claim.refresh_from_db()
    return claim


def test_a_thing_on_another_host_is_not_given_but_sent_to_staff_review(
    creator, allow_loopback, django_capture_on_commit_callbacks
):
    victim = unclaimed("https://someone-else.example/popular-post")
    with LocalSite() as site:
        claim = verify_feed(
            site, creator, django_capture_on_commit_callbacks,
            channel_link=site.url("/"), items=[victim.url],
        )  # fmt: skip
    assert claim.state == ClaimState.VERIFIED and claim.assigned_count == 0
    assert owner_of(victim) is None
    # Staff see it in the claims admin, waiting for review, with the reason.
    review = Claim.objects.get(state=ClaimState.REVIEW)
    assert (review.creator, review.kind, review.url) == (creator, ClaimKind.THING, victim.url)
    assert review.reason_code == "feed_other_host"
    assert "someone-else.example" in reason_text(review.reason_code, review.reason_params)


def test_the_channel_link_is_not_counted(
    creator, allow_loopback, django_capture_on_commit_callbacks
):
    with LocalSite() as site:
        home = unclaimed(site.url("/"))
        foreign_home = unclaimed("https://someone-else.example/")
        claim = verify_feed(
            site, creator, django_capture_on_commit_callbacks,
            channel_link=foreign_home.url, items=[],
        )  # fmt: skip
        claim_own = Claim.objects.get(pk=claim.pk)
    assert claim_own.state == ClaimState.VERIFIED and claim_own.assigned_count == 0
    assert owner_of(foreign_home) is None and owner_of(home) is None
    assert not Claim.objects.filter(state=ClaimState.REVIEW).exists()


def test_the_channel_link_on_the_feeds_own_host_is_not_counted_either(
    creator, allow_loopback, django_capture_on_commit_callbacks
):
    with LocalSite() as site:
        home = unclaimed(site.url("/"))
        claim = verify_feed(
            site, creator, django_capture_on_commit_callbacks,
            channel_link=site.url("/"), items=[],
        )  # fmt: skip
    assert claim.assigned_count == 0 and owner_of(home) is None


def test_things_on_the_feeds_host_and_on_the_creators_verified_hosts_are_given(
    creator, allow_loopback, django_capture_on_commit_callbacks
):
    now = timezone.now()
    VerifiedSite.objects.create(owner=creator, host="ada.example", verified_at=now)
    VerifiedSite.objects.create(
        owner=creator, host="blogs.example", path_prefix="/ada/", verified_at=now
    )
    VerifiedSite.objects.create(owner=UserFactory(), host="bob.example", verified_at=now)
    with LocalSite() as site:
        episode = unclaimed(site.url("/episodes/1"))
        audio = unclaimed(site.url("/media/1.mp3"))
        on_her_site = unclaimed("https://ada.example/episodes/2")
        on_her_prefix = unclaimed("http://blogs.example/ada/3")
        beside_her_prefix = unclaimed("https://blogs.example/bob/3")
        on_bobs_site = unclaimed("https://bob.example/4")
        claim = verify_feed(
            site, creator, django_capture_on_commit_callbacks,
            channel_link=site.url("/"),
            items=[t.url for t in (episode, audio, on_her_site, on_her_prefix,
                                   beside_her_prefix, on_bobs_site)],
        )  # fmt: skip
    assert claim.state == ClaimState.VERIFIED and claim.assigned_count == 4
    for thing in (episode, audio, on_her_site, on_her_prefix):
        assert owner_of(thing) == creator
    assert owner_of(beside_her_prefix) is None and owner_of(on_bobs_site) is None
    assert set(Claim.objects.filter(state=ClaimState.REVIEW).values_list("url", flat=True)) == {
        beside_her_prefix.url,
        on_bobs_site.url,
    }


def test_staff_approval_gives_the_reviewed_thing_and_touches_no_site(
    creator, allow_loopback, django_capture_on_commit_callbacks
):
    bob = UserFactory()
    bobs_site = VerifiedSite.objects.create(
        owner=bob, host="bob.example", verified_at=timezone.now()
    )
    thing = unclaimed("https://bob.example/guest-episode")
    with LocalSite() as site:
        verify_feed(
            site, creator, django_capture_on_commit_callbacks,
            channel_link=site.url("/"), items=[thing.url],
        )  # fmt: skip
    review = Claim.objects.get(state=ClaimState.REVIEW)
    staff = UserFactory(is_staff=True)
    approved = services.claim_review_approve(claim=review, actor=staff)
    assert approved.state == ClaimState.VERIFIED and approved.assigned_count == 1
    assert owner_of(thing) == creator
    assert VerifiedSite.objects.filter(pk=bobs_site.pk, owner=bob).exists()


def test_staff_rejection_leaves_the_thing_unclaimed(
    creator, allow_loopback, django_capture_on_commit_callbacks
):
    thing = unclaimed("https://someone-else.example/x")
    with LocalSite() as site:
        verify_feed(
            site, creator, django_capture_on_commit_callbacks,
            channel_link=site.url("/"), items=[thing.url],
        )  # fmt: skip
    review = Claim.objects.get(state=ClaimState.REVIEW)
    services.claim_review_reject(claim=review, actor=UserFactory(is_staff=True))
    assert owner_of(thing) is None
    assert Thing.objects.filter(owner=creator).count() == 0


def test_the_creator_sees_why_a_listed_thing_waits_for_staff(
    creator, client, allow_loopback, django_capture_on_commit_callbacks
):
    thing = unclaimed("https://someone-else.example/x")
    with LocalSite() as site:
        verify_feed(
            site, creator, django_capture_on_commit_callbacks,
            channel_link=site.url("/"), items=[thing.url],
        )  # fmt: skip
    review = Claim.objects.get(state=ClaimState.REVIEW)
    client.force_login(creator)
    response = client.get(review.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert "someone-else.example" in page and "staff will review it" in page
    assert "Check now" not in page
