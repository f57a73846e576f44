from django.contrib import admin

from buttons.models import Flattr, Subscription, Thing
from core.admin_utils import LargeTableMixin


@admin.register(Thing)
class ThingAdmin(LargeTableMixin, admin.ModelAdmin):
    list_display = ["id", "title", "owner", "category", "hidden", "removed", "created_at"]
    list_filter = ["category", "hidden", "removed"]
    search_fields = ["owner__email__iexact", "url__iexact", "title__icontains"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]


class SupporterThingAdmin(LargeTableMixin, admin.ModelAdmin):
    """Rows of a supporter and a thing (flattrs, subscriptions): found by the
    supporter's e-mail, never edited here."""

    search_fields = ["supporter__email__iexact"]
    list_select_related = ["supporter", "thing"]
    raw_id_fields = ["supporter", "thing"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Flattr)
class FlattrAdmin(SupporterThingAdmin):
    list_display = ["id", "supporter", "thing", "period", "created_at"]
    list_filter = ["period"]


@admin.register(Subscription)
class SubscriptionAdmin(SupporterThingAdmin):
    list_display = ["id", "supporter", "thing", "months", "months_remaining", "status"]
    list_filter = ["status", "months"]
