"""{% scrolltable %}: the sideways-scrolling region around a wide table."""

from django.template import Context, Template
from django.utils import translation

PAGE = Template(
    "{% load tables %}{% scrolltable %}<table><tr><td>{{ title }}</td></tr></table>"
    "{% endscrolltable %}"
)


def test_the_table_is_a_named_keyboard_region_and_its_cells_are_escaped():
    html = PAGE.render(Context({"title": "<b>x</b>"}))
    assert html == (
        '<div class="table-scroll" tabindex="0" role="region" '
        'aria-label="Table (scrolls sideways)">'
        "<table><tr><td>&lt;b&gt;x&lt;/b&gt;</td></tr></table></div>"
    )


def test_the_region_is_named_in_french():
    with translation.override("fr"):
        html = PAGE.render(Context({"title": "x"}))
    assert 'aria-label="Tableau' in html
