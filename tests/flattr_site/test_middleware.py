"""Content-Security-Policy and Permissions-Policy on every page; inline
scripts carry the response's nonce; only the button iframe is frameable."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import ThingFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    parts = [p.strip() for p in header.split(";") if p.strip()]
    return {p.split()[0]: " ".join(p.split()[1:]) for p in parts}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/explore/", "/accounts/login/", "/things/{pk}/"])
def test_every_page_has_a_strict_policy(client, path):
    thing = ThingFactory()
    response = client.get(path.format(pk=thing.pk))
    assert response.status_code == 200
    policy = directives(response)
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_the_button_iframe_is_frameable_and_the_confirm_popup_is_not(client):
    thing = ThingFactory()
    embed = client.get(f"/embed/{thing.pk}/")
    assert directives(embed)["frame-ancestors"] == "*"
    assert directives(embed)["object-src"] == "'none'"
    auto = client.get("/embed/auto/?url=https://x.example/&title=X")
    assert directives(auto)["frame-ancestors"] == "*"
    client.force_login(UserFactory())
    confirm = client.get(reverse("flattr_confirm", args=[thing.pk]))
    assert directives(confirm)["frame-ancestors"] == "'none'"
    assert confirm["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_inline_scripts_carry_the_nonce_of_the_header(client):
    creator = UserFactory()
    thing = ThingFactory(owner=creator)
    client.force_login(creator)
    response = client.get(reverse("thing_button", args=[thing.pk]))
    nonce = re.search(r"'nonce-([^']+)'", directives(response)["script-src"]).group(1)
    scripts = re.findall(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)([^>]*)>", response.content.decode()
    )
    assert scripts
    assert all(f'nonce="{nonce}"' in attrs for attrs in scripts)


def test_templates_have_no_inline_handlers_or_scripts_without_a_nonce():
    offenders = []
    for template in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in template.parts or "demo_publisher.html" in template.name:
            continue
        text = template.read_text()
        for attrs in re.findall(r"<script\b([^>]*)>", text):
            if "src=" not in attrs and "nonce=" not in attrs:
                offenders.append(f"{template}: <script{attrs}>")
        for handler in re.findall(r"<[^>]*\son[a-z]+\s*=", text):
            offenders.append(f"{template}: {handler}")
    assert offenders == []
