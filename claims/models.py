"""Claims: a creator proves that a thing, a site or a feed is theirs."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import staff_field
from core.constraints import choice_constraint


class ClaimKind(models.TextChoices):
    THING = "thing", _("A thing")
    SITE = "site", _("A whole site")
    FEED = "feed", _("A podcast feed")


class ClaimMethod(models.TextChoices):
    META = "meta", _("A meta tag on the page")
    WELL_KNOWN = "well_known", _("A file at /.well-known/flattr-verification.txt")
    PODCAST_TXT = "podcast_txt", _("A podcast:txt tag in the feed")
    REL_ME = "rel_me", _('A rel="me" link to your profile')


class ClaimState(models.TextChoices):
    PENDING = "pending", _("Waiting for your proof")
    CHECKING = "checking", _("Checking")
    VERIFIED = "verified", _("Verified")
    FAILED = "failed", _("Not verified")
    REVIEW = "review", _("Waiting for staff review")
    REJECTED = "rejected", _("Rejected by staff")


class Claim(models.Model):
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="claims",
        verbose_name=_("creator"),
    )
    kind = models.CharField(_("what"), max_length=8, choices=ClaimKind.choices)
    method = models.CharField(_("proof"), max_length=16, choices=ClaimMethod.choices)
    # The claimed address: a thing's URL, a site's root (scheme, host and an
    # optional path prefix) or a feed's URL.
    url = models.URLField(_("address"), max_length=1000)
    # Lower case, ":port" when not default.
    host = models.CharField(_("host"), max_length=255)
    path_prefix = models.CharField(_("path prefix"), max_length=500, blank=True, default="")
    # Only a hash is kept: the token is shown once, when it is made.
    token_hash = models.CharField(_("token hash"), max_length=64)
    token_expires_at = models.DateTimeField(_("token expires at"))
    state = models.CharField(
        _("state"), max_length=12, choices=ClaimState.choices, default=ClaimState.PENDING
    )
    # Why it is not verified: a stable code (see claims/reasons.py) and the
    # values its message needs.
    reason_code = models.CharField(_("reason"), max_length=32, blank=True, default="")
    reason_params = models.JSONField(_("reason details"), default=dict, blank=True)
    # Things that became the creator's when the claim was verified.
    assigned_count = models.PositiveIntegerField(_("things assigned"), default=0)
    checks = models.PositiveIntegerField(_("checks"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    reviewed_by = staff_field(_("reviewed by"))

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        constraints = [
            choice_constraint("kind", ClaimKind, "claim_kind_valid"),
            choice_constraint("method", ClaimMethod, "claim_method_valid"),
            choice_constraint("state", ClaimState, "claim_state_valid"),
            models.CheckConstraint(
                condition=models.Q(url__startswith="http://")
                | models.Q(url__startswith="https://"),
                name="claim_url_is_http",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="feed") | models.Q(method="podcast_txt"),
                name="claim_feed_is_proven_by_podcast_txt",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="verified") | models.Q(verified_at__isnull=False),
                name="claim_verified_has_a_time",
            ),
            # One live claim per creator and address: checking again reuses it.
            models.UniqueConstraint(
                fields=["creator", "kind", "url"],
                condition=~models.Q(state__in=["failed", "rejected"]),
                name="one_live_claim_per_creator_and_address",
            ),
            # Two creators never both own one site: the second goes to review.
            models.UniqueConstraint(
                fields=["host", "path_prefix"],
                condition=models.Q(state="verified", kind="site"),
                name="one_verified_claim_per_site",
            ),
        ]
        indexes = [models.Index(fields=["host", "state"], name="claim_host_state")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.url} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("claim_detail", args=[self.pk])


class ProofKind(models.TextChoices):
    FEDIVERSE = "fediverse", _("Fediverse account")
    GITHUB = "github", _("GitHub account")


class ProofMethod(models.TextChoices):
    # One of the account's profile fields links the creator's profile here.
    PROFILE_FIELD = "profile_field", _("A profile field links your Flattr profile")
    # The same, and the instance itself verified the link (Mastodon's
    # ``verified_at``: our profile links back with rel="me").
    PROFILE_FIELD_VERIFIED = "field_verified", _("A profile field verified by the instance")
    OAUTH = "oauth", _("Connected by OAuth")


class ProofStatus(models.TextChoices):
    ACTIVE = "active", _("Proven")
    FAILED = "failed", _("Not proven")
    REMOVED = "removed", _("Removed")


class ProvenAccount(models.Model):
    """An account elsewhere (a fediverse account, a GitHub account) that a
    creator proved is theirs. While active, the posts and repositories of
    that account are the creator's things (``claims.proofs.owner_for_url``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="proven_accounts",
        verbose_name=_("creator"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ProofKind.choices)
    # Lower case, ":port" when not default: the web host of the account's
    # pages (the instance, github.com or a GitHub Enterprise host).
    host = models.CharField(_("host"), max_length=255)
    # Lower case (both Mastodon and GitHub names are case-insensitive).
    username = models.CharField(_("user name"), max_length=255)
    # The account's id on its server (Mastodon account id, GitHub user id).
    remote_id = models.CharField(_("remote id"), max_length=64, blank=True, default="")
    # The account's profile page as its server gives it (shown, linked).
    profile_url = models.URLField(_("profile"), max_length=1000, blank=True, default="")
    method = models.CharField(_("proof"), max_length=16, choices=ProofMethod.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=ProofStatus.choices, default=ProofStatus.ACTIVE
    )
    # Why it is not proven: a code of claims/reasons.py and its values.
    reason_code = models.CharField(_("reason"), max_length=32, blank=True, default="")
    reason_params = models.JSONField(_("reason details"), default=dict, blank=True)
    # Things that became the creator's when the account was proven.
    assigned_count = models.PositiveIntegerField(_("things assigned"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    proven_at = models.DateTimeField(_("proven at"), null=True, blank=True)

    class Meta:
        verbose_name = _("proven account")
        verbose_name_plural = _("proven accounts")
        constraints = [
            choice_constraint("kind", ProofKind, "proven_account_kind_valid"),
            choice_constraint("method", ProofMethod, "proven_account_method_valid"),
            choice_constraint("status", ProofStatus, "proven_account_status_valid"),
            models.CheckConstraint(
                condition=models.Q(host=Lower("host")) & models.Q(username=Lower("username")),
                name="proven_account_host_and_name_are_lower",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="active") | models.Q(proven_at__isnull=False),
                name="proven_account_active_has_a_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="github") | models.Q(method="oauth"),
                name="proven_account_github_is_proven_by_oauth",
            ),
            # One row per creator and account: proving again reuses it.
            models.UniqueConstraint(
                fields=["user", "kind", "host", "username"],
                name="one_proof_per_creator_and_account",
            ),
            # One creator per account: its posts have one owner. This is
            # also the index owner_for_url looks up.
            models.UniqueConstraint(
                fields=["kind", "host", "username"],
                condition=models.Q(status="active"),
                name="one_creator_per_proven_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.handle} ({self.status})"

    @property
    def handle(self) -> str:
        """``@name@host`` for a fediverse account, the login for GitHub."""
        if self.kind == ProofKind.FEDIVERSE:
            return f"@{self.username}@{self.host}"
        return self.username
