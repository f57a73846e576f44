"""``{% verified_links profile %}``: a creator's verified sites, feeds and
pages and proven accounts elsewhere as rel="me" links with a verified
mark, for their profile."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from claims import selectors

register = template.Library()


@register.simple_tag
def verified_links(profile):
    claims = list(selectors.verified_claims_of_creator(creator=profile)[:20])
    accounts = list(selectors.proven_accounts_public(user_id=profile.pk))
    if not claims and not accounts:
        return ""
    mark = _("Verified: this creator proved this address is theirs")
    proven = _("Verified: this creator proved this account is theirs")
    items = format_html_join(
        "",
        '<li><a rel="me nofollow noopener" href="{}">{}</a> <span class="badge ok" title="{}">✓</span></li>',
        [(c.url, c.url, mark) for c in claims]
        + [(a.profile_url, a.handle, proven) for a in accounts],
    )
    return format_html('<ul class="verified-links">{}</ul>', items)


@register.inclusion_tag("claims/_money_waiting.html", takes_context=True)
def money_waiting(context, user):
    """Tells a creator that things on their own sites (verified claims,
    profile website) hold unclaimed money, with a link to claim them."""
    sites = selectors.money_waiting_for_creator(creator=user) if user.is_authenticated else []
    return {"sites": sites, "total": sum(site.cents for site in sites)}
