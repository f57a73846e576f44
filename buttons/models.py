"""Attention: things creators register and the flattrs supporters give."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.constraints import choice_constraint, first_of_month_constraint


class Category(models.TextChoices):
    TEXT = "text", _("Text")
    IMAGES = "images", _("Images")
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio")
    SOFTWARE = "software", _("Software")
    PEOPLE = "people", _("People")
    REST = "rest", _("Other")


class Thing(models.Model):
    # Empty while unclaimed: an auto-submitted thing whose creator has not
    # joined yet; its shares wait in the unclaimed holding.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="things",
        verbose_name=_("owner"),
    )
    url = models.URLField(_("URL"), max_length=1000)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    category = models.CharField(
        _("category"), max_length=16, choices=Category.choices, default=Category.REST
    )
    tags = models.CharField(_("tags"), max_length=300, blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    hidden = models.BooleanField(_("hidden"), default=False)
    # Removed by its owner: kept (flattrs point at it) but never counted.
    removed = models.BooleanField(_("removed"), default=False)
    # Left out of explore and profiles but still flattrable (auto-submit's
    # classic ``hidden=1``); ``hidden`` is the creator's "not flattrable".
    unlisted = models.BooleanField(_("unlisted"), default=False)
    # The supporter whose flattr created it through auto-submit, so its
    # creator can tell (and edit or hide) what others submitted.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    # Submitted by a supporter and not yet accepted by its owner: flattrable
    # (the flattr counts) but listed nowhere (profile, explore, API lists,
    # funding.json), and its page says so. See docs/buttons.md.
    pending = models.BooleanField(_("awaiting its creator"), default=False)
    # When the owner accepted a supporter's submission (null otherwise).
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    # Null for things last changed before this field existed.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, null=True)

    class Meta:
        verbose_name = _("thing")
        verbose_name_plural = _("things")
        constraints = [
            models.UniqueConstraint(fields=["owner", "url"], name="one_thing_per_owner_and_url"),
            models.UniqueConstraint(
                "url", condition=models.Q(owner__isnull=True), name="one_unclaimed_thing_per_url"
            ),
            models.CheckConstraint(
                condition=models.Q(url__startswith="http://")
                | models.Q(url__startswith="https://"),
                name="thing_url_is_http",
            ),
            # Only a creator's thing waits for its creator, and an accepted
            # one waits no more.
            models.CheckConstraint(
                condition=models.Q(pending=False)
                | models.Q(owner__isnull=False, accepted_at__isnull=True),
                name="thing_pending_has_owner_not_accepted",
            ),
        ]
        indexes = [models.Index(Lower("url"), name="thing_url_lower")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("thing_detail", kwargs={"pk": self.pk})


# The fields that describe a thing, named alike in our forms, the API and the
# classic Flattr button parameters.
THING_DESCRIPTION = ("url", "title", "description", "category", "tags", "language")


class FlattrSource(models.TextChoices):
    BUTTON = "button", _("Button")
    API = "api", _("API")
    SUBSCRIPTION = "subscription", _("Subscription")
    # Connected accounts (likes/): a like elsewhere became this flattr.
    MASTODON = "mastodon", _("Favourited on Mastodon")
    GITHUB = "github", _("Starred on GitHub")
    FEED = "feed", _("Liked in a feed")


class AutoSubmitPolicy(models.Model):
    """What supporters may auto-submit under a creator's name. No row: any
    http(s) address, as the classic Flattr did."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="auto_submit_policy",
        verbose_name=_("owner"),
    )
    enabled = models.BooleanField(_("accept auto-submitted things"), default=True)
    # One normalised address prefix a line; empty: any address.
    url_prefixes = models.TextField(_("only addresses starting with"), blank=True)

    class Meta:
        verbose_name = _("auto-submit policy")
        verbose_name_plural = _("auto-submit policies")

    def __str__(self) -> str:
        return f"auto-submit policy of {self.owner_id}"

    def prefixes(self) -> list[str]:
        return [line.strip() for line in self.url_prefixes.splitlines() if line.strip()]

    def allows(self, url: str) -> bool:
        if not self.enabled:
            return False
        prefixes = self.prefixes()
        return not prefixes or any(url.startswith(prefix) for prefix in prefixes)


class Flattr(models.Model):
    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="flattrs",
        verbose_name=_("supporter"),
    )
    thing = models.ForeignKey(
        Thing, on_delete=models.PROTECT, related_name="flattrs", verbose_name=_("thing")
    )
    # First day of the month of created_at in PAYOUT_TIMEZONE.
    period = models.DateField(_("period"))
    created_at = models.DateTimeField(_("created at"), db_index=True)
    # Which door it came through: a subscription's monthly flattrs are marked.
    source = models.CharField(
        _("source"), max_length=16, choices=FlattrSource.choices, default=FlattrSource.BUTTON
    )

    class Meta:
        verbose_name = _("flattr")
        verbose_name_plural = _("flattrs")
        constraints = [
            models.UniqueConstraint(
                fields=["supporter", "thing", "period"], name="one_flattr_per_thing_per_month"
            ),
            choice_constraint("source", FlattrSource, "flattr_source_valid"),
            first_of_month_constraint("period", "flattr_period_is_first_of_month"),
        ]
        indexes = [
            # The split reads a month's flattrs in this order, thing
            # included, from the index alone: no sort of the month.
            models.Index(
                fields=["period", "supporter", "created_at", "id"],
                include=["thing"],
                name="flattr_split_covering",
            ),
            models.Index(fields=["thing", "period"], name="flattr_thing_period"),
        ]

    def __str__(self) -> str:
        return f"{self.supporter_id} -> {self.thing_id} ({self.period:%Y-%m})"


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    CANCELLED = "cancelled", _("Cancelled")


SUBSCRIPTION_MONTHS = (1, 3, 6, 12)


class Subscription(models.Model):
    """A thing flattred automatically once in each month for ``months`` months."""

    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="subscriptions",
        verbose_name=_("supporter"),
    )
    thing = models.ForeignKey(
        Thing, on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("thing")
    )
    months = models.PositiveSmallIntegerField(_("months"))
    # Monthly flattrs still to make; the month it was created counts as the first.
    months_remaining = models.PositiveSmallIntegerField(_("months remaining"))
    # First day of the last month this subscription flattred (null before).
    last_period = models.DateField(_("last month flattred"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(months__in=SUBSCRIPTION_MONTHS),
                name="subscription_months_1_3_6_or_12",
            ),
            models.CheckConstraint(
                condition=models.Q(months_remaining__lte=models.F("months")),
                name="subscription_remaining_within_months",
            ),
            choice_constraint("status", SubscriptionStatus, "subscription_status_valid"),
            first_of_month_constraint(
                "last_period", "subscription_last_period_is_first_of_month", null=True
            ),
            models.UniqueConstraint(
                fields=["supporter", "thing"],
                condition=~models.Q(status="cancelled"),
                name="one_live_subscription_per_supporter_and_thing",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "last_period"],
                condition=models.Q(status="active"),
                name="subscription_active_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supporter_id} -> {self.thing_id} ({self.months} months, {self.status})"


class VerifiedSite(models.Model):
    """A site (host, optionally a path prefix) whose owner proved control
    through a claim. Auto-submit for URLs under it belongs to that owner.
    Written by the claims app; read by the buttons."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="verified_sites",
        verbose_name=_("owner"),
    )
    # As proven; both schemes are covered.
    scheme = models.CharField(_("scheme"), max_length=5, default="https")
    # Lower case, with ":port" when not default.
    host = models.CharField(_("host"), max_length=255)
    path_prefix = models.CharField(_("path prefix"), max_length=500, blank=True, default="")
    verified_at = models.DateTimeField(_("verified at"))

    class Meta:
        verbose_name = _("verified site")
        verbose_name_plural = _("verified sites")
        constraints = [
            models.UniqueConstraint(fields=["host", "path_prefix"], name="one_owner_per_site"),
            models.CheckConstraint(
                condition=models.Q(host=Lower("host")), name="verified_site_host_is_lower"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.host}{self.path_prefix} ({self.owner_id})"
