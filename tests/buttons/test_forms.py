"""Thing and auto-submit forms report a bad address once."""

import pytest

from buttons.forms import AutoSubmitForm, ThingForm


@pytest.mark.parametrize("url", ["not a url", "ftp://example.org/x", "javascript:alert(1)"])
def test_bad_thing_address_is_reported_once(url):
    form = ThingForm({"url": url, "title": "A post", "category": "text"})
    assert not form.is_valid()
    assert len(form.errors["url"]) == 1


def test_bad_auto_submit_address_is_reported_once():
    form = AutoSubmitForm({"url": "not a url"})
    assert not form.is_valid()
    assert len(form.errors["url"]) == 1
