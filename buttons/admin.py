from django.contrib import admin

from buttons.models import Flattr, Subscription, Thing
from flattr_site.admin_utils import EstimatedCountPaginator


@admin.register(Thing)
class ThingAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "owner", "category", "hidden", "removed", "created_at"]
    list_filter = ["category", "hidden", "removed"]
    search_fields = ["owner__email__iexact", "url__iexact", "title__icontains"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ["-id"]


@admin.register(Flattr)
class FlattrAdmin(admin.ModelAdmin):
    list_display = ["id", "supporter", "thing", "period", "created_at"]
    list_filter = ["period"]
    search_fields = ["supporter__email__iexact"]
    list_select_related = ["supporter", "thing"]
    raw_id_fields = ["supporter", "thing"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ["-id"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["id", "supporter", "thing", "months", "months_remaining", "status"]
    list_filter = ["status", "months"]
    search_fields = ["supporter__email__iexact"]
    list_select_related = ["supporter", "thing"]
    raw_id_fields = ["supporter", "thing"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ["-id"]

    def has_change_permission(self, request, obj=None):
        return False
