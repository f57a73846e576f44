"""A walk through the supporter, creator and admin journeys on the demo data,
at desktop and phone sizes: every main page fits a 360 px screen without
sideways scrolling, axe-core (bundled with axe-playwright-python, served
from our own files) finds no serious or critical violation, and the flattr
flow works with the keyboard alone and without JavaScript. Screenshots go to
$E2E_SHOTS (default /tmp/ux-shots/) for a human to look at."""

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

from buttons.models import Flattr, Thing
from buttons.services import current_period
from flattr_site.demo import DEMO_PASSWORD
from tests.e2e.conftest import log_in, log_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
AXE = Axe()
SHOTS = Path(os.environ.get("E2E_SHOTS", "/tmp/ux-shots"))


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


ANONYMOUS_PAGES = ["/", "/explore/", "/accounts/login/", "/accounts/signup/"]
SUPPORTER_PAGES = [
    "/dashboard/",
    "/flattrs/",
    "/wallet/",
    "/wallet/topup/",
    "/settings/",
    "/settings/data/",
    "/u/claire/",
    "/explore/?q=fonts",
    "/months/",
]
CREATOR_PAGES = ["/earnings/", "/things/mine/", "/things/new/", "/dashboard/"]


@pytest.fixture
def demo(settings):
    settings.DEBUG = True  # the test-mode gateway, as under `make run`
    settings.STRIPE_SECRET_KEY = ""
    call_command("seed_demo")


def serious_violations(page) -> list[str]:
    results = AXE.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def too_wide(page) -> list[str]:
    """The outermost elements that stick out on the right, to name the culprit."""
    return page.evaluate(
        """() => {
        const out = [];
        for (const el of document.querySelectorAll("body *")) {
            const r = el.getBoundingClientRect();
            if (r.right > window.innerWidth + 1 && !out.some(o => o.el.contains(el)))
                out.push({el, text: el.tagName.toLowerCase() + "." + el.className + " " + Math.round(r.width)});
        }
        return out.slice(0, 5).map(o => o.text);
    }"""
    )


def check_pages(page, base: str, paths: list[str], label: str) -> list[str]:
    problems = []
    for path in paths:
        response = page.goto(base + path)
        if response is None or response.status >= 400:
            problems.append(f"{path}: HTTP {response.status if response else '?'}")
            continue
        slug = re.sub(r"[^a-z0-9]+", "-", path).strip("-") or "home"
        shot(page, f"{label}-{slug}")
        extra = overflow(page)
        if extra > 0:
            problems.append(f"{path}: {extra} px wider than the screen: {too_wide(page)}")
        problems += [f"{path}: {v}" for v in serious_violations(page)]
    return problems


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_main_pages_fit_the_screen_and_pass_axe(chromium, platform_url, demo, size):
    viewport = PHONE if size == "phone" else DESKTOP
    problems = []
    context = chromium.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    thing = Thing.objects.filter(owner__username="claire").order_by("pk").first()
    problems += check_pages(
        page, platform_url, [*ANONYMOUS_PAGES, f"/things/{thing.pk}/"], f"{size}-anon"
    )
    log_in(page, platform_url, "sophie@example.com", DEMO_PASSWORD)
    other = Thing.objects.filter(owner__username="david").order_by("-pk").first()
    problems += check_pages(
        page,
        platform_url,
        [*SUPPORTER_PAGES, f"/things/{thing.pk}/", f"/things/{other.pk}/flattr/"],
        f"{size}-supporter",
    )
    log_out(page)
    log_in(page, platform_url, "claire@example.com", DEMO_PASSWORD)
    problems += check_pages(page, platform_url, CREATOR_PAGES, f"{size}-creator")
    # The earnings chart shows its latest month without scrolling, and at
    # 1280 px the table beside it is not cut (it sits under the chart).
    page.goto(platform_url + "/earnings/")
    last_label = page.locator("svg.earnings-chart g text").last.bounding_box()
    assert last_label["x"] >= 0
    assert last_label["x"] + last_label["width"] <= viewport["width"]
    assert (
        page.evaluate(
            "[...document.querySelectorAll('.table-scroll')]"
            ".filter(b => !b.classList.contains('chart-scroll'))"
            ".every(b => b.scrollWidth <= b.clientWidth)"
        )
        or size == "phone"
    )
    context.close()
    assert problems == [], "\n".join(problems)


def test_flattr_by_keyboard_and_without_javascript(chromium, platform_url, demo):
    # Keyboard only: tab to the button on the thing page and press Enter.
    sophie_flattred = set(
        Flattr.objects.filter(supporter__username="sophie", period=current_period()).values_list(
            "thing_id", flat=True
        )
    )
    fresh = Thing.objects.exclude(pk__in=sophie_flattred).exclude(owner__username="sophie")
    first, second = list(fresh.order_by("pk")[:2])
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, platform_url, "sophie@example.com", DEMO_PASSWORD)
    page.goto(f"{platform_url}/things/{first.pk}/")
    assert "If you flattr this" in page.inner_text("main")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('flattr-confirm')"):
            break
    else:
        pytest.fail("the Flattr this button cannot be reached with Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=flattred-on]")
    shot(page, "phone-flattred")
    assert Flattr.objects.filter(supporter__username="sophie", thing=first).exists()
    context.close()

    # Without JavaScript the same button records the flattr.
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    log_in(page, platform_url, "sophie@example.com", DEMO_PASSWORD)
    page.goto(f"{platform_url}/things/{second.pk}/")
    page.click("button.flattr-confirm")
    page.wait_for_selector("[data-testid=flattred-on]")
    assert Flattr.objects.filter(supporter__username="sophie", thing=second).exists()
    context.close()


def test_admin_run_pages_fit_a_laptop(chromium, platform_url, demo):
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, platform_url, "admin@example.com", DEMO_PASSWORD)
    for path in ["/admin/", "/admin/payouts/payoutrun/", "/admin/withdrawals/withdrawal/"]:
        page.goto(platform_url + path)
        slug = re.sub(r"[^a-z0-9]+", "-", path).strip("-")
        shot(page, f"admin-{slug}")
        assert overflow(page) <= 0, path
    page.goto(platform_url + "/admin/payouts/payoutrun/")
    # Every column of the runs list is visible, not scrolled away.
    assert page.evaluate(
        "(() => { const r = document.querySelector('#changelist .results');"
        " return r.scrollWidth <= r.clientWidth; })()"
    )
    page.click("text=Close a demo month (DEBUG)")
    page.wait_for_url(re.compile(r".*/admin/payouts/payoutrun/\d+/change/$"))
    assert "balanced to the cent" in page.content()
    context.close()
