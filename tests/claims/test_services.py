"""Claims against real local sites: proofs, refusals, assignment, conflicts,
and the held money reaching the creator at the next run."""

import datetime as dt
import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from buttons.models import Thing, VerifiedSite
from claims import services
from claims.models import ClaimKind, ClaimMethod, ClaimState
from claims.reasons import reason_text
from ledger.models import AccountKind
from tests.factories import ThingFactory, UserFactory
from tests.localsite import HTML, LocalSite

pytestmark = pytest.mark.django_db


@pytest.fixture
def creator():
    return UserFactory(username="ada")


def page_with_meta(token):
    return (
        200,
        HTML,
        f'<html><head><meta name="flattr:verification" content="{token}"></head></html>'.encode(),
    )


def check(claim, django_capture_on_commit_callbacks):
    """Request a check and run the real Celery task (eager) on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        services.claim_check_request(claim=claim)
    claim.refresh_from_db()
    return claim


def claim_by_meta(site, creator, django_capture_on_commit_callbacks):
    """``creator`` claims ``site`` by meta tag, the site's page shows the
    token, and the claim is checked: the claim after its check."""
    claim, token = services.claim_create(
        creator=creator, kind=ClaimKind.SITE, url=site.url("/"), method=ClaimMethod.META
    )
    site.routes["/"] = page_with_meta(token)
    return check(claim, django_capture_on_commit_callbacks)


def unclaimed_thing(url):
    return ThingFactory(owner=None, url=url)


class TestSiteByMetaTag:
    def test_a_verified_site_assigns_its_unclaimed_things_and_owns_auto_submit(
        self, creator, allow_loopback, django_capture_on_commit_callbacks
    ):
        with LocalSite() as site:
            mine = [unclaimed_thing(site.url("/post-1")), unclaimed_thing(site.url("/a/b?c=1"))]
            elsewhere = unclaimed_thing("https://someone-else.example/post")
            claim = claim_by_meta(site, creator, django_capture_on_commit_callbacks)
        assert claim.state == ClaimState.VERIFIED and claim.assigned_count == 2
        assert {t.owner for t in Thing.objects.filter(pk__in=[t.pk for t in mine])} == {creator}
        elsewhere.refresh_from_db()
        assert elsewhere.owner is None
        verified = VerifiedSite.objects.get()
        assert (verified.owner, verified.host) == (creator, f"127.0.0.1:{site.port}")
        assert site.requests[0][2]["User-Agent"].startswith("OpenFlattr-Fetcher/")

    def test_a_wrong_token_fails_with_the_reason_and_assigns_nothing(
        self, creator, allow_loopback, django_capture_on_commit_callbacks
    ):
        with LocalSite() as site:
            thing = unclaimed_thing(site.url("/post"))
            claim, _token = services.claim_create(
                creator=creator, kind=ClaimKind.SITE, url=site.url("/"), method=ClaimMethod.META
            )
            site.routes["/"] = page_with_meta("flattr-someone-elses-token")
            claim = check(claim, django_capture_on_commit_callbacks)
        assert claim.state == ClaimState.FAILED and claim.reason_code == "meta_missing"
        assert "flattr:verification" in reason_text(claim.reason_code, claim.reason_params)
        thing.refresh_from_db()
        assert thing.owner is None and not VerifiedSite.objects.exists()

    def test_a_path_prefix_limits_the_site(
        self, creator, allow_loopback, django_capture_on_commit_callbacks
    ):
        with LocalSite() as site:
            inside = unclaimed_thing(site.url("/blog/one"))
            outside = unclaimed_thing(site.url("/shop/two"))
            claim, token = services.claim_create(
                creator=creator, kind=ClaimKind.SITE, url=site.url("/blog"), method=ClaimMethod.META
            )
            assert claim.path_prefix == "/blog/"
            site.routes["/blog/"] = page_with_meta(token)
            check(claim, django_capture_on_commit_callbacks)
        inside.refresh_from_db()
        outside.refresh_from_db()
        assert inside.owner == creator and outside.owner is None


def test_the_well_known_file_proves_a_site(
    creator, allow_loopback, django_capture_on_commit_callbacks
):
    with LocalSite() as site:
        thing = unclaimed_thing(site.url("/x"))
        claim, token = services.claim_create(
            creator=creator, kind=ClaimKind.SITE, url=site.url("/"), method=ClaimMethod.WELL_KNOWN
        )
        site.routes["/.well-known/flattr-verification.txt"] = (
            200, {"Content-Type": "text/plain"}, f"other\n{token}\n".encode()
        )  # fmt: skip
        claim = check(claim, django_capture_on_commit_callbacks)
    assert claim.state == ClaimState.VERIFIED
    thing.refresh_from_db()
    assert thing.owner == creator


def test_a_podcast_txt_proves_a_feed_and_assigns_its_episodes(
    creator, allow_loopback, django_capture_on_commit_callbacks
):
    with LocalSite() as site:
        episode = unclaimed_thing(site.url("/episodes/1"))
        audio = unclaimed_thing(site.url("/media/2.mp3"))
        not_in_feed = unclaimed_thing(site.url("/episodes/99"))
        claim, token = services.claim_create(
            creator=creator,
            kind=ClaimKind.FEED,
            url=site.url("/feed.xml"),
            method=ClaimMethod.PODCAST_TXT,
        )
        feed = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Show</title><link>{site.url("/")}</link>
<podcast:txt purpose="verify"><![CDATA[{token}]]></podcast:txt>
<item><title>One</title><link>{site.url("/episodes/1")}</link></item>
<item><title>Two</title><enclosure url="{site.url("/media/2.mp3")}" type="audio/mpeg" length="1"/></item>
</channel></rss>"""
        site.routes["/feed.xml"] = (200, {"Content-Type": "application/rss+xml"}, feed.encode())
        claim = check(claim, django_capture_on_commit_callbacks)
    assert claim.state == ClaimState.VERIFIED and claim.assigned_count == 2
    for thing, owner in ((episode, creator), (audio, creator), (not_in_feed, None)):
        thing.refresh_from_db()
        assert thing.owner == owner


def test_a_rel_me_link_to_the_profile_proves_a_thing(
    creator, allow_loopback, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://flattr.example"
    with LocalSite() as site:
        thing = unclaimed_thing(site.url("/about"))
        claim, _token = services.claim_create(
            creator=creator, kind=ClaimKind.THING, url=site.url("/about"), method=ClaimMethod.REL_ME
        )
        site.routes["/about"] = (
            200, HTML, b'<a rel="me" href="https://flattr.example/u/ada">me on Flattr</a>'
        )  # fmt: skip
        claim = check(claim, django_capture_on_commit_callbacks)
    assert claim.state == ClaimState.VERIFIED
    thing.refresh_from_db()
    assert thing.owner == creator


@pytest.mark.parametrize(
    "kind, url, method, field",
    [
        (ClaimKind.SITE, "ftp://example.org/", ClaimMethod.META, "url"),
        (ClaimKind.SITE, "javascript:alert(1)", ClaimMethod.META, "url"),
        (ClaimKind.SITE, "example.org", ClaimMethod.META, "url"),
        (ClaimKind.SITE, "https://user:pw@example.org/", ClaimMethod.META, "url"),
        (ClaimKind.FEED, "https://example.org/feed", ClaimMethod.META, "method"),
        (ClaimKind.SITE, "https://example.org/", ClaimMethod.PODCAST_TXT, "method"),
        (ClaimKind.THING, "https://nothing.example/here", ClaimMethod.META, "url"),
    ],
)
def test_bad_claims_are_refused_with_a_reason(creator, kind, url, method, field):
    with pytest.raises(ValidationError) as exc:
        services.claim_create(creator=creator, kind=kind, url=url, method=method)
    assert field in exc.value.message_dict


def test_an_owned_thing_cannot_be_claimed(creator):
    thing = ThingFactory()
    with pytest.raises(ValidationError, match="already belongs"):
        services.claim_create(creator=creator, kind=ClaimKind.THING, url=thing.url, method="meta")


class TestFetchFailuresAreReasons:
    def _claim_and_check(self, creator, url, capture, method=ClaimMethod.META, kind=ClaimKind.SITE):
        claim, _token = services.claim_create(creator=creator, kind=kind, url=url, method=method)
        return check(claim, capture)

    def test_loopback_is_refused_with_an_empty_allowlist(
        self, creator, settings, django_capture_on_commit_callbacks
    ):
        settings.FETCH_ALLOWED_HOSTS, settings.FETCH_ALLOWED_NETWORKS = [], []
        with LocalSite() as site:
            thing = unclaimed_thing(site.url("/p"))
            claim = claim_by_meta(site, creator, django_capture_on_commit_callbacks)
        assert claim.state == ClaimState.FAILED and claim.reason_code == "address_refused"
        assert site.requests == []
        thing.refresh_from_db()
        assert thing.owner is None

    def test_a_redirect_to_a_private_address_is_refused(
        self, creator, settings, django_capture_on_commit_callbacks
    ):
        settings.FETCH_ALLOWED_HOSTS, settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1"], []
        with LocalSite({"/": (302, {"Location": "http://10.0.0.1/"}, b"")}) as site:
            claim = self._claim_and_check(
                creator, site.url("/"), django_capture_on_commit_callbacks
            )
        assert claim.reason_code == "address_refused"

    def test_an_unresolvable_host(
        self, creator, allow_loopback, django_capture_on_commit_callbacks
    ):
        claim = self._claim_and_check(
            creator, "https://no-such-host.invalid/", django_capture_on_commit_callbacks
        )
        assert claim.state == ClaimState.FAILED and claim.reason_code == "dns"
        assert "no-such-host.invalid" in reason_text(claim.reason_code, claim.reason_params)

    def test_an_oversized_page(self, creator, allow_loopback, django_capture_on_commit_callbacks):
        with LocalSite({"/": (200, HTML, b"x" * (1024 * 1024 + 10))}) as site:
            claim = self._claim_and_check(
                creator, site.url("/"), django_capture_on_commit_callbacks
            )
        assert claim.reason_code == "too_large"

    def test_a_slow_server(
        self, creator, allow_loopback, settings, django_capture_on_commit_callbacks
    ):
        settings.FETCH_READ_TIMEOUT = 0.3

        def slow(handler):
            time.sleep(2)
            return (200, HTML, b"late")

        with LocalSite({"/": slow}) as site:
            claim = self._claim_and_check(
                creator, site.url("/"), django_capture_on_commit_callbacks
            )
        assert claim.reason_code == "timeout"

    def test_a_redirect_loop(self, creator, allow_loopback, django_capture_on_commit_callbacks):
        with LocalSite({"/": (302, {"Location": "/"}, b"")}) as site:
            claim = self._claim_and_check(
                creator, site.url("/"), django_capture_on_commit_callbacks
            )
        assert claim.reason_code == "redirects"

    def test_an_error_status(self, creator, allow_loopback, django_capture_on_commit_callbacks):
        with LocalSite() as site:
            claim = self._claim_and_check(
                creator, site.url("/"), django_capture_on_commit_callbacks
            )
        assert claim.reason_code == "http_status" and claim.reason_params["status"] == 404

    def test_a_feed_that_is_not_a_feed(
        self, creator, allow_loopback, django_capture_on_commit_callbacks
    ):
        with LocalSite({"/feed": (200, HTML, b"<html><body>hi</body></html>")}) as site:
            claim = self._claim_and_check(
                creator, site.url("/feed"), django_capture_on_commit_callbacks,
                method=ClaimMethod.PODCAST_TXT, kind=ClaimKind.FEED,
            )  # fmt: skip
        assert claim.reason_code == "not_a_feed"

    def test_an_xml_bomb_is_not_parsed(
        self, creator, allow_loopback, django_capture_on_commit_callbacks
    ):
        bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><rss>&b;</rss>'
        with LocalSite({"/feed": (200, {"Content-Type": "application/xml"}, bomb)}) as site:
            claim = self._claim_and_check(
                creator, site.url("/feed"), django_capture_on_commit_callbacks,
                method=ClaimMethod.PODCAST_TXT, kind=ClaimKind.FEED,
            )  # fmt: skip
        assert claim.reason_code == "not_a_feed"


def test_an_expired_token_fails_without_fetching(creator, allow_loopback):
    with LocalSite() as site:
        claim, token = services.claim_create(
            creator=creator, kind=ClaimKind.SITE, url=site.url("/"), method=ClaimMethod.META
        )
        site.routes["/"] = page_with_meta(token)
        later = timezone.now() + dt.timedelta(days=7, seconds=1)
        claim = services.claim_check_request(claim=claim, now=later)
    assert claim.state == ClaimState.FAILED and claim.reason_code == "expired"
    assert site.requests == []


def test_a_new_token_replaces_the_old_one(
    creator, allow_loopback, django_capture_on_commit_callbacks
):
    with LocalSite() as site:
        claim, old = services.claim_create(
            creator=creator, kind=ClaimKind.SITE, url=site.url("/"), method=ClaimMethod.META
        )
        new = services.claim_token_renew(claim=claim)
        assert new != old
        site.routes["/"] = page_with_meta(old)
        claim = check(claim, django_capture_on_commit_callbacks)
        assert claim.reason_code == "meta_missing"
        site.routes["/"] = page_with_meta(new)
        claim = check(claim, django_capture_on_commit_callbacks)
    assert claim.state == ClaimState.VERIFIED


def test_the_token_is_never_stored(creator):
    claim, token = services.claim_create(
        creator=creator, kind=ClaimKind.SITE, url="https://ada.example/", method=ClaimMethod.META
    )
    assert token not in str(claim.__dict__)


class TestConflicts:
    def test_a_second_creator_goes_to_staff_review_and_staff_decide(
        self, creator, allow_loopback, django_capture_on_commit_callbacks
    ):
        rival = UserFactory(username="rival")
        staff = UserFactory(is_staff=True)
        with LocalSite() as site:
            first = claim_by_meta(site, creator, django_capture_on_commit_callbacks)
            later = unclaimed_thing(site.url("/later"))
            second = claim_by_meta(site, rival, django_capture_on_commit_callbacks)
        assert second.state == ClaimState.REVIEW and second.reason_code == "conflict"
        assert VerifiedSite.objects.get().owner == creator
        later.refresh_from_db()
        assert later.owner is None  # nothing moves while staff decide

        services.claim_review_approve(claim=second, actor=staff)
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.state, second.state) == (ClaimState.REJECTED, ClaimState.VERIFIED)
        assert VerifiedSite.objects.get().owner == rival
        later.refresh_from_db()
        assert later.owner == rival

    def test_staff_can_reject(self, creator):
        claim, _t = services.claim_create(
            creator=creator, kind=ClaimKind.SITE, url="https://ada.example/", method="meta"
        )
        with pytest.raises(ValidationError):
            services.claim_review_reject(claim=claim, actor=UserFactory(is_staff=True))


def test_held_money_reaches_the_creator_at_the_next_run(
    creator, allow_loopback, django_capture_on_commit_callbacks
):
    from payouts import services as payouts
    from tests.factories import balance, flattr, platform, supporter

    staff = UserFactory(is_staff=True, is_superuser=True)
    period = dt.date(2026, 9, 1)
    with LocalSite() as site:
        orphan = unclaimed_thing(site.url("/old-post"))
        flattr(supporter(budget=300, balance=5000), orphan, period)
        run = payouts.payout_run_compute(period=period)
        payouts.payout_run_approve(run=run, actor=staff, queue=False)
        payouts.payout_run_post(run_id=run.pk)
        assert platform(AccountKind.UNCLAIMED, f"thing:{orphan.pk}") == 300

        claim_by_meta(site, creator, django_capture_on_commit_callbacks)

    run = payouts.payout_run_compute(period=dt.date(2026, 10, 1))
    payouts.payout_run_approve(run=run, actor=staff, queue=False)
    payouts.payout_run_post(run_id=run.pk)
    assert balance(creator, AccountKind.EARNINGS) == 270  # 300 less the 10% fee
    assert platform(AccountKind.UNCLAIMED, f"thing:{orphan.pk}") == 0
