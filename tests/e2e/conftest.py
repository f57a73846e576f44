"""Browser tests: Playwright driving Debian's Chromium against a live server.

The platform runs on 127.0.0.1 and publisher pages are served from
``localhost`` on another port, so embeds cross sites as they do for real.
"""

import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# Before pytest-django's session-wide live_server starts.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (apt install chromium)")
        pytest.skip("Chromium is not installed (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium):
    context = chromium.new_context()
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def platform_url(live_server, settings):
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def publisher():
    """Serve one HTML page from http://localhost:PORT/ (another site)."""
    pages = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            html, headers = pages.get(self.path.split("?")[0], ("", {}))
            body = html.encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("localhost", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(html: str, path: str = "/", headers: dict | None = None) -> str:
        pages[path] = (html, headers or {})
        return f"http://localhost:{server.server_address[1]}{path}"

    yield serve
    server.shutdown()


def log_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url("**/dashboard/")


def log_out(page) -> None:
    """Log out as a person would: on a phone open the menu, then the
    account's group (the user's name), then press Log out."""
    menu = page.locator("button[aria-controls=nav-items]")
    if menu.is_visible() and menu.get_attribute("aria-expanded") != "true":
        menu.click()
    page.click("button.nav-user")
    page.click("text=Log out")
    page.wait_for_load_state()
