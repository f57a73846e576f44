"""Every page has an icon: the link in base.html and /favicon.ico."""

import pytest
from django.contrib.staticfiles import finders


def test_favicon_ico_answers_with_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


@pytest.mark.django_db
def test_pages_link_an_icon_that_exists(client):
    page = client.get("/").content.decode()
    assert 'rel="icon"' in page
    assert finders.find("img/flattr.svg")
