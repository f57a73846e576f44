"""Why a claim is not verified: stable codes and their messages."""

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    # The safe fetcher's refusals (core.fetch.FetchError.code).
    "bad_url": _("The address is not an http or https address we can check."),
    "dns": _("The host %(host)s does not resolve: check the address."),
    "address_refused": _(
        "The host %(host)s points to a private or local network address, which we never fetch."
    ),
    "connect": _("We could not connect to %(host)s."),
    "timeout": _("%(host)s was too slow to answer (we wait a few seconds)."),
    "redirects": _("Too many redirects (at most 3 are followed); a redirect loop ends here too."),
    "too_large": _("The page is over 1 MB, the most we read."),
    "protocol": _("The server's answer was not valid HTTP."),
    "error": _("The check failed."),
    # What the page said.
    "http_status": _("The server answered HTTP %(status)s for %(url)s."),
    "meta_missing": _('%(url)s has no <meta name="flattr:verification"> tag with your token.'),
    "file_missing": _("%(url)s does not contain your token."),
    "podcast_txt_missing": _('The feed has no <podcast:txt purpose="verify"> tag with your token.'),
    "rel_me_missing": _('%(url)s has no rel="me" link to your profile %(profile)s.'),
    "not_a_feed": _("%(url)s is not an RSS or Atom feed."),
    "expired": _("Your token expired (tokens are valid for 7 days): make a new one."),
    "owned": _("This thing already belongs to a creator."),
    "conflict": _("Another creator verified this site: staff will review both claims."),
    "rejected": _("Staff rejected this claim."),
    "feed_other_host": _(
        "Your feed %(feed)s lists this address on %(host)s, a host the feed does not prove "
        "is yours: staff will review it."
    ),
    # Proving a fediverse account (claims/fediverse.py, claims/proof_services.py).
    "not_mastodon": _(
        "%(host)s does not answer the Mastodon API (GET /api/v1/accounts/lookup): "
        "is it a Mastodon, GoToSocial, Pleroma, Akkoma or Pixelfed server?"
    ),
    "no_such_account": _("%(host)s has no account named %(name)s."),
    "account_malformed": _("%(host)s answered with something that is not a valid account."),
    "account_too_large": _("%(host)s answered with far more than an account (over 256 KB)."),
    "account_elsewhere": _(
        "The account %(name)s lives on another server than %(host)s: enter the address of "
        "your profile on the server that hosts it."
    ),
    "link_missing": _(
        "No profile field of %(handle)s links your Flattr profile %(profile)s yet. Add it "
        "(edit profile, extra fields), save, and check again."
    ),
    "proof_conflict": _(
        "This account's profile also links another creator's Flattr profile: leave only yours."
    ),
    "moved": _("Another creator proved this account since."),
}


def reason_text(code: str, params: dict | None = None) -> str:
    message = MESSAGES.get(code)
    if message is None:
        return str(MESSAGES["error"])
    try:
        return str(message) % (params or {})
    except (KeyError, TypeError, ValueError):
        return str(message)
