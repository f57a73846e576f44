"""``{% payment_links thing=... %}`` / ``{% payment_links profile=... %}``:
the rel="payment" and oEmbed discovery links of a page's head, and the
creator's proven fediverse accounts (rel="me", fediverse:creator). Also asks
PaymentLinkMiddleware for the matching ``Link`` header."""

from xml.sax.saxutils import quoteattr

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from buttons import classic_selectors
from buttons.creator_links import creator_links

register = template.Library()


@register.simple_tag(takes_context=True)
def payment_links(context, thing=None, profile=None):
    if thing is not None and not (thing.hidden or thing.removed):
        payment = classic_selectors.thing_payment_url(thing=thing)
        page = classic_selectors.absolute(thing.get_absolute_url())
        title = thing.title
        creator_id = thing.owner_id
    elif profile is not None:
        payment = classic_selectors.profile_payment_url(user=profile)
        page = classic_selectors.absolute(profile.get_absolute_url())
        title = profile.public_name
        creator_id = profile.pk
    else:
        return ""
    request = context.get("request")
    if request is not None:
        request.flattr_link_header = [f'<{payment}>; rel="payment"']
    oembed = classic_selectors.oembed_endpoint_for(page_url=page)
    links = format_html_join(
        "\n",
        '<link rel="{}" {}href="{}"{}>',
        [
            ("payment", "", payment, ""),
            ("alternate", format_html('type="{}" ', "application/json+oembed"), oembed,
             format_html(' title="{}"', title)),
        ],
    )  # fmt: skip
    # The creator's proven fediverse accounts: rel="me" both ways (the
    # account's profile field links here; Mastodon marks it verified when
    # this page links back) and Mastodon's author attribution.
    proven = creator_links(user_id=creator_id)
    if not proven:
        return links
    return links + format_html_join(
        "",
        '\n<link rel="me" href="{}">',
        [(link.href,) for link in proven],
    ) + format_html_join(
        "",
        '\n<meta name="fediverse:creator" content="{}">',
        [(link.fediverse_handle,) for link in proven if link.fediverse_handle][:1],
    )  # fmt: skip


@register.simple_tag
def funding_snippets(thing) -> list[dict]:
    """The "Get the button" page's other snippets, each with a copy button:
    the auto-submit link, the feed's rel=payment line, Podcasting 2.0's
    funding tag and GitHub's FUNDING.yml line."""
    payment = classic_selectors.thing_payment_url(thing=thing)
    return [
        {
            "id": "snippet-auto-submit",
            "label": _("Auto-submit link"),
            "help": _("Link to it from anywhere: a click flattrs this thing."),
            "text": payment,
        },
        {
            "id": "snippet-feed",
            "label": _("RSS or Atom feed"),
            "help": _("In the item (RSS, with the Atom namespace) or entry (Atom) of this thing."),
            "text": f'<atom:link rel="payment" href={quoteattr(payment)} type="text/html" />',
        },
        {
            "id": "snippet-podcast",
            "label": _("Podcast feed (Podcasting 2.0)"),
            "help": _("In the <channel> or <item> of a feed with the podcast namespace."),
            "text": f"<podcast:funding url={quoteattr(payment)}>Flattr</podcast:funding>",
        },
        {
            "id": "snippet-funding-yml",
            "label": _("GitHub FUNDING.yml"),
            "help": _("In .github/FUNDING.yml: GitHub shows a Sponsor button with this link."),
            "text": f'custom: ["{payment}"]',
        },
    ]
