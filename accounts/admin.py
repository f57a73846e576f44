from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.money import format_cents

# allauth registers its e-mail addresses as a second "Accounts" section;
# they are shown on each user instead, so the admin has one.
if admin.site.is_registered(EmailAddress):
    admin.site.unregister(EmailAddress)


class EmailAddressInline(admin.TabularInline):
    model = EmailAddress
    extra = 0
    fields = ["email", "verified", "primary"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [EmailAddressInline]
    list_display = [
        "email",
        "username",
        "display_name",
        "budget_display",
        "is_staff",
        "date_joined",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "username", "display_name"]
    ordering = ["-date_joined"]
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("email", "username", "password")}),
        (
            _("Profile"),
            {"fields": ("display_name", "bio", "website", "budget_display", "flattrs_public")},
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined", "deleted_at")}),
    )
    # The budget is the person's own choice, shown in euros, changed in their
    # settings only.
    readonly_fields = ["budget_display", "deleted_at"]

    @admin.display(description=_("monthly budget"), ordering="monthly_budget_cents")
    def budget_display(self, obj):
        return format_cents(obj.monthly_budget_cents)

    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "username", "password1", "password2")}),
    )
