"""People: supporters and creators share one User model (e-mail login)."""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.lookups import LowerIExact

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

username_validator = RegexValidator(
    r"^[A-Za-z0-9_.-]+\Z",
    _("Use only letters, digits, dots, hyphens and underscores."),
    code="invalid_username",
)


def staff_field(verbose_name: "StrOrPromise", **options: Any) -> models.ForeignKey:
    """The staff member who acted on a row (reviewed a claim or a withdrawal,
    approved a run, made a manual transaction), empty until then or when
    nobody did; they are never deleted from under their decisions."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=verbose_name,
        **options,
    )


def default_budget_cents() -> int:
    return settings.FLATTR_DEFAULT_BUDGET_CENTS


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)

    def create_user(self, email=None, password=None, **extra):
        extra.setdefault("username", (email or "").split("@")[0])
        return self._create_user(extra.pop("username"), email, password, **extra)

    def create_superuser(self, email=None, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    email = models.EmailField(_("e-mail address"), unique=True)
    username = models.CharField(
        _("username"),
        max_length=40,
        unique=True,
        validators=[username_validator],
        help_text=_("Shown in your public address /u/<username>/."),
    )
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    bio = models.TextField(_("bio"), max_length=1000, blank=True)
    website = models.URLField(_("website"), blank=True)
    # Monthly budget in cents, split at month end among what was flattred.
    monthly_budget_cents = models.BigIntegerField(_("monthly budget"), default=default_budget_cents)
    # Privacy: shown as "flattred by" on thing pages and in the API only when
    # the supporter chose it; anonymous by default.
    flattrs_public = models.BooleanField(
        _("show my flattrs publicly"),
        default=False,
        help_text=_("Your name appears as “flattred by” on the things you flattr."),
    )
    # Set when the person deleted their account: personal data erased, the
    # row kept because the ledger and past flattrs point at it.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="email_unique_case_insensitive"),
            models.UniqueConstraint(Lower("username"), name="username_unique_case_insensitive"),
            models.CheckConstraint(
                condition=models.Q(monthly_budget_cents__gte=0), name="budget_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def get_absolute_url(self) -> str:
        return reverse("profile", kwargs={"username": self.username})

    @property
    def public_name(self) -> str:
        return self.display_name or self.username


# Case-insensitive lookups on these fields use their LOWER() unique indexes.
for _name in ("email", "username"):
    User._meta.get_field(_name).register_lookup(LowerIExact)
