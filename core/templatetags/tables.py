"""``{% scrolltable %}<table>…</table>{% endscrolltable %}``: a wide table in
a region that scrolls sideways on a narrow screen, reachable and scrollable
with the keyboard (``tabindex``) and named for screen readers. One place
for the markup every list page repeats."""

from __future__ import annotations

from django import template
from django.template.base import Parser, Token
from django.template.context import Context
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()


class ScrollTableNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: Context) -> SafeString:
        # The inner nodes render with autoescaping as anywhere else.
        inner = mark_safe(self.nodelist.render(context))  # noqa: S308
        return format_html(
            '<div class="table-scroll" tabindex="0" role="region" aria-label="{}">{}</div>',
            _("Table (scrolls sideways)"),
            inner,
        )


@register.tag
def scrolltable(parser: Parser, token: Token) -> ScrollTableNode:
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("scrolltable takes no arguments")
    nodelist = parser.parse(("endscrolltable",))
    parser.delete_first_token()
    return ScrollTableNode(nodelist)
