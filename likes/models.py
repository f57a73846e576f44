"""Connected accounts and the likes seen on them.

A supporter connects an account elsewhere (a Mastodon-compatible server, a
GitHub account, a feed of likes); polling reads the likes made after
``connected_at`` and each becomes a flattr through buttons' flattr service,
within the monthly cap, or waits, or is skipped with a reason.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from buttons.models import Thing
from core.constraints import choice_constraint, first_of_month_constraint
from core.crypto import EncryptedTextField


class InstanceApp(models.Model):
    """The OAuth application registered once on a Mastodon-compatible server
    (``POST /api/v1/apps``), shared by every supporter of that server."""

    # Normalised: scheme and host (with a non-default port), no trailing slash.
    base_url = models.URLField(_("server address"), max_length=300, unique=True)
    client_id = models.CharField(_("client id"), max_length=300)
    client_secret = EncryptedTextField(_("client secret"))
    scopes = models.CharField(_("scopes"), max_length=300, default="read:favourites")
    redirect_uri = models.URLField(_("redirect URI"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("server application")
        verbose_name_plural = _("server applications")

    def __str__(self) -> str:
        return self.base_url


class AccountKind(models.TextChoices):
    MASTODON = "mastodon", _("Mastodon")
    GITHUB = "github", _("GitHub")
    FEED = "feed", _("Feed of likes")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    # The server refused the token (401): tokens deleted, owner told.
    REVOKED = "revoked", _("Access revoked")
    # The last polls failed; retried with a growing delay.
    ERROR = "error", _("Failing")
    # The supporter disconnected it: tokens deleted, likes kept.
    DISCONNECTED = "disconnected", _("Disconnected")


# A connected account's encrypted tokens: read only where a request to its
# server needs them (polling, revoking), deferred everywhere else.
TOKEN_FIELDS = ("access_token", "refresh_token")


class ConnectedAccount(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="connected_accounts",
        verbose_name=_("supporter"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    # The server (Mastodon: "https://mastodon.example"), the API (GitHub:
    # GITHUB_API_URL when connected) or the feed's address (feed).
    url = models.URLField(_("address"), max_length=1000)
    instance_app = models.ForeignKey(
        InstanceApp,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name=_("server application"),
    )
    # The account on the other side: its id there, and its handle
    # ("alice@mastodon.example", a GitHub login); empty for a feed.
    remote_id = models.CharField(_("remote account id"), max_length=255, blank=True)
    remote_login = models.CharField(_("remote account"), max_length=255, blank=True)
    access_token = EncryptedTextField(_("access token"))
    refresh_token = EncryptedTextField(_("refresh token"))
    scopes = models.CharField(_("scopes"), max_length=300, blank=True)
    # The supporter's on/off switch.
    enabled = models.BooleanField(_("enabled"), default=True)
    status = models.CharField(
        _("status"), max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    # Only likes made after this count.
    connected_at = models.DateTimeField(_("connected at"), default=timezone.now)
    # Poll state. ``next_poll_at`` staggers the accounts over the interval.
    last_poll_at = models.DateTimeField(_("last poll"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last successful poll"), null=True, blank=True)
    next_poll_at = models.DateTimeField(_("next poll"), default=timezone.now)
    # The newest like seen (Mastodon: a status id; GitHub: a starred_at; a
    # feed: an entry id): where the next poll stops reading.
    cursor = models.CharField(_("newest like seen"), max_length=255, blank=True)
    # The first poll only records what was already liked (a baseline).
    baseline_done = models.BooleanField(_("baseline taken"), default=False)
    # Conditional GET of feeds.
    etag = models.CharField(_("ETag"), max_length=255, blank=True)
    last_modified = models.CharField(_("Last-Modified"), max_length=64, blank=True)
    # No poll before this (Retry-After, X-RateLimit-Reset, error back-off).
    backoff_until = models.DateTimeField(_("back off until"), null=True, blank=True)
    consecutive_errors = models.PositiveIntegerField(_("errors in a row"), default=0)
    # A safe, human sentence (never a token, never a response body).
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    # Its stable code (likes.overview.error_words says it in the page's language).
    last_error_code = models.CharField(_("last error code"), max_length=32, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("connected account")
        verbose_name_plural = _("connected accounts")
        constraints = [
            choice_constraint("kind", AccountKind, "connected_account_kind_valid"),
            choice_constraint("status", AccountStatus, "connected_account_status_valid"),
            models.UniqueConstraint(
                fields=["user", "kind", "url", "remote_id"],
                name="one_connection_per_user_and_remote_account",
            ),
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="connected_account_url_is_http",
            ),
        ]
        indexes = [
            # The beat task's "which accounts are due": enabled ones by time.
            models.Index(
                fields=["next_poll_at"],
                condition=Q(enabled=True, status__in=["active", "error"]),
                name="connected_account_due",
            ),
        ]

    def __str__(self) -> str:
        who = self.remote_login or self.url
        return f"{self.get_kind_display()} {who} ({self.user_id})"


class LikeSettings(models.Model):
    """A supporter's own cap on like-flattrs a month (none: the default,
    ``FLATTR_LIKES_PER_MONTH``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="like_settings",
        verbose_name=_("supporter"),
    )
    likes_per_month = models.PositiveIntegerField(_("likes flattred a month"), null=True)

    class Meta:
        verbose_name = _("like settings")
        verbose_name_plural = _("like settings")

    def __str__(self) -> str:
        return f"like settings of {self.user_id}"


class LikeState(models.TextChoices):
    FLATTRED = "flattred", _("Flattred")
    # Over the month's cap: the supporter may flattr it by hand.
    WAITING = "waiting", _("Waiting")
    SKIPPED = "skipped", _("Skipped")


class SkipReason(models.TextChoices):
    BEFORE_CONNECTING = "before_connecting", _("Liked before connecting")
    OWN_THING = "own_thing", _("Your own thing")
    HIDDEN = "hidden", _("Hidden or removed")
    ALREADY_FLATTRED = "already_flattred", _("Already flattred this month")
    NO_MEANS = "no_means", _("Wallet empty")
    REFUSED = "refused", _("Refused by the flattr rules")
    BAD_URL = "bad_url", _("Not a web address")


class Like(models.Model):
    """One like seen on a connected account, flattred at most once: the
    database holds one row per account and remote like."""

    account = models.ForeignKey(
        ConnectedAccount,
        on_delete=models.CASCADE,
        related_name="likes",
        verbose_name=_("connected account"),
    )
    # The account's owner, kept on the row for the cap and the waiting list.
    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="likes",
        verbose_name=_("supporter"),
    )
    # The like's id there: a status id, a repository id, a feed entry's id.
    remote_id = models.CharField(_("remote id"), max_length=500)
    url = models.URLField(_("URL"), max_length=1000)
    title = models.CharField(_("title"), max_length=200, blank=True)
    # When it was liked (GitHub's starred_at, a feed entry's date), else
    # when it was first seen (Mastodon does not say when one favourited).
    liked_at = models.DateTimeField(_("liked at"))
    seen_at = models.DateTimeField(_("seen at"), default=timezone.now)
    thing = models.ForeignKey(
        Thing,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("thing"),
    )
    # The month of the flattr made from it (its key with ``thing``; no
    # foreign key to the partitioned flattrs table).
    period = models.DateField(_("period"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=LikeState.choices)
    reason = models.CharField(
        _("reason"), max_length=32, choices=SkipReason.choices, blank=True, default=""
    )
    flattred_at = models.DateTimeField(_("flattred at"), null=True, blank=True)

    class Meta:
        verbose_name = _("like")
        verbose_name_plural = _("likes")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "remote_id"], name="one_like_per_account_and_remote_id"
            ),
            choice_constraint("state", LikeState, "like_state_valid"),
            models.CheckConstraint(
                condition=Q(reason="") | Q(reason__in=SkipReason.values),
                name="like_reason_valid",
            ),
            # A skipped like says why; no other does.
            models.CheckConstraint(
                condition=(Q(state="skipped") & ~Q(reason=""))
                | (~Q(state="skipped") & Q(reason="")),
                name="like_skipped_iff_reason",
            ),
            # A flattred like names its thing and month.
            models.CheckConstraint(
                condition=~Q(state="flattred") | Q(period__isnull=False, flattred_at__isnull=False),
                name="like_flattred_has_period",
            ),
            first_of_month_constraint("period", "like_period_is_first_of_month", null=True),
        ]
        indexes = [
            # The cap (this month's like-flattrs) and the waiting list.
            models.Index(fields=["supporter", "state", "period"], name="like_supporter_state"),
            models.Index(fields=["account", "-seen_at"], name="like_account_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.remote_id} ({self.state})"
