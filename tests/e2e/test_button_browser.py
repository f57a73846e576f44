"""A publisher on localhost embeds buttons from the platform on 127.0.0.1."""

import re

import pytest
from django.utils import timezone

from buttons.models import Flattr, Thing, VerifiedSite
from tests.factories import PASSWORD, ThingFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def funded_supporter():
    return UserFactory(email="fan@example.org", wallet_cents=2000)


def publisher_page(platform: str, thing_id: int, owner: str) -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>A blog</title></head><body>
<h1>My blog</h1>
<a class="flattr-button" href="{platform}/things/{thing_id}/" data-flattr-thing="{thing_id}">Flattr</a>
<p>New post:</p>
<a class="flattr-button" href="https://blog.example.org/new" data-flattr-owner="{owner}"
   data-flattr-url="https://blog.example.org/new" data-flattr-title="Brand new" data-flattr-category="text"
   data-flattr-style="compact">Flattr</a>
<script async src="{platform}/button.js"></script>
</body></html>"""


def click_and_confirm(page, frame_selector: str):
    frame = page.frame_locator(frame_selector)
    with page.expect_popup() as popup_info:
        frame.locator("#flattr").click()
    return popup_info.value


def test_flattr_from_a_cross_site_embed(browser_context, platform_url, publisher):
    creator = UserFactory(username="claire")
    thing = ThingFactory(owner=creator, title="Libre fonts")
    # The auto-submit button below names a page of claire's blog, which the
    # publisher page (on localhost) is not: her verified site allows it.
    VerifiedSite.objects.create(owner=creator, host="blog.example.org", verified_at=timezone.now())
    funded_supporter()
    page = browser_context.new_page()
    page.goto(publisher(publisher_page(platform_url, thing.pk, "claire")))
    first = f"iframe[src*='/embed/{thing.pk}/']"
    page.wait_for_selector(first)
    assert page.frame_locator(first).locator("#count").inner_text() == "0"

    # Click: the popup asks to log in, comes back, the supporter confirms.
    popup = click_and_confirm(page, first)
    popup.wait_for_url(re.compile(r".*/accounts/login/.*"))
    popup.fill("input[name=login]", "fan@example.org")
    popup.fill("input[name=password]", PASSWORD)
    popup.click("form button[type=submit]")
    popup.wait_for_selector("button.flattr-confirm")
    assert "Libre fonts" in popup.content()
    popup.click("button.flattr-confirm")
    popup.wait_for_event("close")
    # One popup, no stray tab from the link's no-JavaScript target.
    assert [p.url for p in browser_context.pages] == [page.url]
    # The button updated without reloading the publisher page.
    page.frame_locator(first).locator("#count", has_text="1").wait_for()
    assert Flattr.objects.filter(thing=thing).count() == 1

    # The button shows the flattred state after the click (and, where the
    # browser keeps the frame's storage, after a reload); a second click the
    # same month says when, and offers no button.
    page.frame_locator(first).locator("#flattr[data-flattred]").wait_for()
    popup = click_and_confirm(page, first)
    popup.wait_for_selector("[data-testid=flattred-on]")
    assert "You flattred this on" in popup.content()
    assert popup.locator("button.flattr-confirm").count() == 0
    popup.close()
    assert Flattr.objects.filter(thing=thing).count() == 1

    # An auto-submit button creates its thing on the first flattr.
    auto = "iframe[src*='/embed/auto/']"
    assert not Thing.objects.filter(url="https://blog.example.org/new").exists()
    popup = click_and_confirm(page, auto)
    popup.wait_for_selector("button.flattr-confirm")
    assert "Brand new" in popup.content()
    popup.click("button.flattr-confirm")
    popup.wait_for_event("close")
    page.frame_locator(auto).locator("#count", has_text="1").wait_for()
    new = Thing.objects.get(url="https://blog.example.org/new")
    assert new.owner == creator and new.title == "Brand new"


def test_confirm_page_refuses_to_render_in_a_frame(browser_context, platform_url, publisher):
    thing = ThingFactory()
    user = funded_supporter()
    page = browser_context.new_page()
    # Logged in, so a framed confirm page would show its button.
    page.goto(f"{platform_url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/dashboard/")
    page.goto(
        publisher(
            f'<iframe id="trap" src="{platform_url}/things/{thing.pk}/flattr/"></iframe>', "/trap"
        )
    )
    page.wait_for_timeout(1000)
    framed = [f for f in page.frames if f != page.main_frame]
    assert framed, "the iframe element exists"
    for frame in framed:
        assert "flattr-confirm" not in frame.content()
    assert Flattr.objects.count() == 0


def test_count_updates_on_a_publisher_page_that_isolates_itself(
    browser_context, platform_url, publisher
):
    """A publisher sending COOP same-origin cuts the popup off from the
    iframe; the button then learns the new count from count.json."""
    thing = ThingFactory(title="Isolated")
    funded_supporter()
    page = browser_context.new_page()
    html = publisher_page(platform_url, thing.pk, "nobody-needed")
    page.goto(publisher(html, "/isolated", {"Cross-Origin-Opener-Policy": "same-origin"}))
    first = f"iframe[src*='/embed/{thing.pk}/']"
    page.wait_for_selector(first)
    popup = click_and_confirm(page, first)
    popup.wait_for_selector("input[name=login]")
    popup.fill("input[name=login]", "fan@example.org")
    popup.fill("input[name=password]", PASSWORD)
    popup.click("form button[type=submit]")
    popup.click("button.flattr-confirm")
    popup.wait_for_selector("text=Thank you!")
    page.frame_locator(first).locator("#count", has_text="1").wait_for(timeout=10_000)
    assert len(browser_context.pages) == 2  # the publisher and the popup, no stray tab
