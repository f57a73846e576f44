"""Connected accounts in Chromium (issue 27): a supporter connects a
Mastodon account through the real OAuth redirect dance against the fake
server (tests/fakes/mastodon.py: its own authorisation page, PKCE S256),
favourites two posts there, ``likes_poll`` runs, and My flattrs shows two
flattrs that say where they came from. The pages pass axe (WCAG 2.2 AA) in
English and French and do not scroll sideways on a phone."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from buttons.models import Flattr
from likes.flattring import RemoteLike, likes_record
from likes.models import ConnectedAccount, Like, LikeState
from tests.e2e.conftest import log_in
from tests.e2e.test_nav_browser import DESKTOP, PHONE, WCAG_AA, new_page, sideways, violations
from tests.factories import PASSWORD, supporter
from tests.likes.helpers import account

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def likes_poll() -> dict:
    out = StringIO()
    call_command("likes_poll", stdout=out)
    return json.loads(out.getvalue())


def test_connect_mastodon_favourite_twice_and_see_two_flattrs(
    chromium, platform_url, mastodon_fake
):
    fan = supporter(email="fan@example.org")
    context, page = new_page(chromium, DESKTOP)
    log_in(page, platform_url, fan.email, PASSWORD)
    page.goto(f"{platform_url}/settings/")
    page.get_by_role("link", name="Connected accounts").click()
    page.wait_for_url("**/settings/connected/")
    assert violations(page, tags=WCAG_AA) == []

    # The real redirect dance: our form, the server's own page, back to us.
    page.get_by_label("Your server").fill(mastodon_fake.base_url)
    page.get_by_role("button", name="Connect a Mastodon account").click()
    page.wait_for_url(f"{mastodon_fake.base_url}/oauth/authorize?**")
    assert "would like permission to access your account" in page.inner_text("main")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{platform_url}/settings/connected/")
    who = f"alice@{mastodon_fake.authority}"
    assert f"{who} is connected" in page.inner_text(".messages")
    row = page.locator("[data-testid=account-mastodon]")
    assert who in row.inner_text() and "Working" in row.inner_text()
    assert violations(page, tags=WCAG_AA) == []
    account = ConnectedAccount.objects.get(user=fan)
    assert account.baseline_done  # read once at connecting

    # Two favourites there, then a poll here.
    first = mastodon_fake.favourite("alice")
    second = mastodon_fake.favourite("alice")
    summary = likes_poll()
    assert summary["flattrs"] == 2 and summary["errors"] == 0

    page.goto(f"{platform_url}/flattrs/")
    rows = page.locator("[data-testid=this-month] li")
    assert rows.count() == 2
    origins = page.locator("[data-testid=this-month] [data-testid=origin]").all_inner_texts()
    assert origins == [f"Favourited on {mastodon_fake.authority}"] * 2
    assert Flattr.objects.filter(supporter=fan, source="mastodon").count() == 2
    liked = set(
        Like.objects.filter(supporter=fan, state=LikeState.FLATTRED).values_list("url", flat=True)
    )
    assert liked == {first["url"], second["url"]}
    # Undo is there as for any flattr.
    assert page.get_by_role("button", name="Undo").count() == 2
    context.close()


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
def test_the_pages_pass_axe_and_fit_a_phone(chromium, platform_url, settings, lang, viewport):

    settings.FLATTR_LIKES_PER_MONTH = 1
    fan = supporter(email="fan@example.org")
    github = account(fan, kind="github", url="https://api.github.com", remote_login="octocat")
    account(fan, url="https://feed.example/likes.xml", remote_login="A feed", enabled=False)
    now = timezone.now()
    likes_record(
        account=github,
        likes=[
            RemoteLike(
                str(i), f"https://code.example/p{i}", f"Project {i}", now - dt.timedelta(minutes=i)
            )
            for i in range(3)
        ],
    )
    context, page = new_page(chromium, viewport, lang=lang)
    log_in(page, platform_url, fan.email, PASSWORD)
    problems = []
    for path in [
        "/settings/connected/",
        "/settings/connected/waiting/",
        f"/settings/connected/{github.pk}/disconnect/",
        "/flattrs/",
    ]:
        page.goto(platform_url + path)
        problems += [f"{path}: {v}" for v in violations(page, tags=WCAG_AA)]
        if sideways(page) > 0:
            problems.append(f"{path}: scrolls sideways")
    # A form error is said next to its field, in the page's language.
    page.goto(platform_url + "/settings/connected/")
    page.get_by_test_id("feed-form").get_by_role("textbox").fill("http://127.0.0.1:9/x")
    page.get_by_test_id("feed-form").get_by_role("button").click()
    assert page.locator("[data-testid=feed-form] [role=alert]").count() == 1
    problems += [f"feed error: {v}" for v in violations(page, tags=WCAG_AA)]
    context.close()
    assert problems == [], "\n".join(problems)
