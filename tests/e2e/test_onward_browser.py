"""Settings → Pass it on in Chromium at 1280 and 375 px (issue 26): a
creator sets a list through the page, sees a refused row as a form error
with nothing saved, and the page passes axe (WCAG 2.2 AA) without
scrolling sideways on a phone."""

import pytest

from payouts.models import OnwardShare
from tests.e2e.conftest import log_in
from tests.e2e.test_nav_browser import DESKTOP, PHONE, WCAG_AA, new_page, sideways, violations
from tests.factories import PASSWORD, UserFactory, thing

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def field(page, label):
    """A row's input by its label (Django's labels end with a colon)."""
    return page.get_by_label(f"{label}:", exact=True)


def listed(creator):
    return list(
        OnwardShare.objects.filter(creator=creator)
        .order_by("position")
        .values_list("target_user__username", "target_thing_id", "percent")
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_a_creator_sets_a_list_in_the_browser(chromium, platform_url, viewport):
    claire = UserFactory(username="claire", email="claire@example.org")
    thing(owner=claire, title="Essay")  # a creator
    UserFactory(username="bob", display_name="Bob")
    song = thing(owner=UserFactory(), title="Song")
    context, page = new_page(chromium, viewport)
    log_in(page, platform_url, claire.email, PASSWORD)
    page.goto(f"{platform_url}/settings/onward/")
    assert page.locator("input[name^=target_]").count() == 3  # an empty list: 3 rows
    assert violations(page, tags=WCAG_AA) == []
    assert sideways(page) <= 0

    # A refused list: the service's message, nothing saved, the rows kept.
    field(page, "Target 1").fill("@bob")
    field(page, "Percent 1").fill("2.5")
    page.click("[data-testid=onward-form] button[type=submit]")
    error = page.locator("[data-testid=onward-error]")
    assert "2.5 is not a percent" in error.inner_text()
    assert listed(claire) == []
    assert field(page, "Target 1").input_value() == "@bob"
    assert violations(page, tags=WCAG_AA) == []
    assert sideways(page) <= 0

    field(page, "Percent 1").fill("10")
    field(page, "Target 2").fill(str(song.pk))
    field(page, "Percent 2").fill("5")
    page.click("[data-testid=onward-form] button[type=submit]")
    page.wait_for_selector(".messages")
    assert listed(claire) == [("bob", None, 10), (None, song.pk, 5)]
    # The saved list and three empty rows come back.
    assert page.locator("input[name^=target_]").count() == 5
    assert field(page, "Target 2").input_value() == str(song.pk)
    assert violations(page, tags=WCAG_AA) == []
    assert sideways(page) <= 0

    # The public profile says it, with links.
    page.goto(f"{platform_url}/u/claire/")
    said = page.locator("[data-testid=onward-public]")
    assert " ".join(said.inner_text().split()) == "Passes on 10% to Bob, 5% to Song."
    assert said.get_by_role("link", name="Bob").get_attribute("href") == "/u/bob/"
    context.close()
