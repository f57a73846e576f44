"""``{% payment_links thing=... %}`` / ``{% payment_links profile=... %}``:
the rel="payment" and oEmbed discovery links of a page's head. Also asks
PaymentLinkMiddleware for the matching ``Link`` header."""

from django import template
from django.utils.html import format_html, format_html_join

from buttons import classic_selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def payment_links(context, thing=None, profile=None):
    if thing is not None and not (thing.hidden or thing.removed):
        payment = classic_selectors.thing_payment_url(thing=thing)
        page = classic_selectors.absolute(thing.get_absolute_url())
        title = thing.title
    elif profile is not None:
        payment = classic_selectors.profile_payment_url(user=profile)
        page = classic_selectors.absolute(profile.get_absolute_url())
        title = profile.public_name
    else:
        return ""
    request = context.get("request")
    if request is not None:
        request.flattr_link_header = [f'<{payment}>; rel="payment"']
    oembed = classic_selectors.oembed_endpoint_for(page_url=page)
    return format_html_join(
        "\n",
        '<link rel="{}" {}href="{}"{}>',
        [
            ("payment", "", payment, ""),
            ("alternate", format_html('type="{}" ', "application/json+oembed"), oembed,
             format_html(' title="{}"', title)),
        ],
    )  # fmt: skip
