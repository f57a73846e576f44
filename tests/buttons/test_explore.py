"""Explore: search words in title, description and tags; category and
language filters; descriptions shown."""

import pytest
from django.urls import reverse

from tests.factories import ThingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def things():
    return {
        "bread": ThingFactory(title="Sourdough bread", description="Slow baking.", language="en"),
        "pain": ThingFactory(title="Pain au levain", description="Cuisson lente.", language="fr"),
        "synth": ThingFactory(
            title="Modular synth", description="Patches.", tags="music, audio", category="audio"
        ),
        "hidden": ThingFactory(title="Hidden bread", hidden=True),
    }


def titles(response):
    return [t.title for t in response.context["newest_page"]]


def test_search_matches_every_word_in_title_description_or_tags(client, things):
    assert titles(client.get(reverse("explore"), {"q": "bread"})) == ["Sourdough bread"]
    assert titles(client.get(reverse("explore"), {"q": "slow SOURDOUGH"})) == ["Sourdough bread"]
    assert titles(client.get(reverse("explore"), {"q": "music"})) == ["Modular synth"]
    assert titles(client.get(reverse("explore"), {"q": "bread synth"})) == []


def test_filters_by_category_and_language(client, things):
    assert titles(client.get(reverse("explore"), {"lang": "FR"})) == ["Pain au levain"]
    response = client.get(reverse("explore"), {"q": "", "category": "audio", "lang": ""})
    assert titles(response) == ["Modular synth"]


def test_descriptions_are_shown(client, things):
    page = client.get(reverse("explore")).content.decode()
    assert "Slow baking." in page and "Cuisson lente." in page
    assert "Hidden bread" not in page


def test_the_language_filter_names_languages_and_keeps_codes(client, things):
    """Things from the API say ``en_GB``: the filter showed "en_gb"
    (issue 28, item 12). Names in the page's language, codes in the URL."""
    ThingFactory(title="A podcast", language="en_GB")
    ThingFactory(title="Ein Lied", language="de_DE")
    page = client.get(reverse("explore")).content.decode()
    assert '<option value="de_de">German</option>' in page
    assert '<option value="en_gb">English (en_gb)</option>' in page
    assert '<option value="fr">French</option>' in page
    assert ">en_gb<" not in page and ">de_de<" not in page
    french = client.get(reverse("explore"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<option value="de_de">Allemand</option>' in french
    assert '<option value="fr">Français</option>' in french or "Français</option>" in french
    found = client.get(reverse("explore"), {"lang": "de_de"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert titles(found) == ["Ein Lied"]
    assert "Ein Lied" in found.content.decode() and "· Allemand" in found.content.decode()
