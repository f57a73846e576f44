"""The API in a browser: the reference page renders from our own static
files, and a person gives an application a token on the consent page."""

import base64
import json
import urllib.parse
import urllib.request

import pytest

from api import services as api_services
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_api_reference_renders_without_other_hosts(browser_context, platform_url):
    page = browser_context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{platform_url}/developers/api/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    text = page.content()
    assert "/rest/v2/things/search" in text
    assert "/rest/v2/things/{id}/flattr" in text
    outside = [url for url in requested if not url.startswith(platform_url)]
    assert outside == [], outside


def test_consent_in_the_browser_gives_the_app_a_token(browser_context, platform_url, publisher):
    person = UserFactory(email="pat@example.org", username="pat")
    callback = publisher("<p>back at the app</p>", path="/callback")
    app, secret = api_services.application_register(
        user=UserFactory(), name="Podcatcher", redirect_uris=callback, client_type="confidential"
    )
    page = browser_context.new_page()
    log_in(page, platform_url, person.email, PASSWORD)
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": callback,
            "scope": "flattr,thing",
            "state": "xyz",
        }
    )
    page.goto(f"{platform_url}/oauth/authorize?{query}")
    assert "Podcatcher" in page.content()
    assert "Create, update and delete your things." in page.content()
    page.click("button[name=allow]")
    page.wait_for_url(f"{callback}?*")
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert params["state"] == ["xyz"]

    basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    request = urllib.request.Request(
        f"{platform_url}/oauth/token",
        data=urllib.parse.urlencode(
            {
                "grant_type": "authorization_code",
                "code": params["code"][0],
                "redirect_uri": callback,
            }
        ).encode(),
        headers={"Authorization": f"Basic {basic}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        token = json.load(response)
    me = urllib.request.Request(
        f"{platform_url}/rest/v2/user", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    with urllib.request.urlopen(me, timeout=30) as response:
        assert json.load(response)["username"] == "pat"
