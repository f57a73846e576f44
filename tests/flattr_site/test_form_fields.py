"""The shared form layout: a checkbox comes before its label, on one line."""

import re

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_checkbox_is_followed_by_its_label_without_a_colon(client, user):
    client.force_login(user)
    page = client.get(reverse("settings")).content.decode()
    assert re.search(
        r'<div class="field field-check">\s*<input type="checkbox" name="flattrs_public"'
        r'[^>]*id="id_flattrs_public"[^>]*>\s*<label for="id_flattrs_public">Show my flattrs publicly</label>',
        page,
    )
    # Other fields keep their label above the input.
    assert re.search(r'<label for="id_display_name">Display name:</label>\s*<input', page)
