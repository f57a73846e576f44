"""The admin's view of connected accounts and likes: poll state at a
glance, fast lists on large tables, never a token (the encrypted fields are
neither listed nor shown, and the lists do not even load them)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from core.admin_utils import IndexedSearchMixin, LargeTableMixin, ReadOnlyAdminMixin
from likes.models import ConnectedAccount, InstanceApp, Like

SECRETS = ("access_token", "refresh_token", "client_secret")


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(
    ReadOnlyAdminMixin, LargeTableMixin, IndexedSearchMixin, admin.ModelAdmin
):
    list_display = [
        "id", "user", "kind", "remote_login", "enabled", "status", "last_poll_at",
        "next_poll_at", "backoff_until", "consecutive_errors", "last_error_code",
    ]  # fmt: skip
    list_filter = ["kind", "status", "enabled", "last_error_code"]
    list_select_related = ["user"]
    exclude = ["access_token", "refresh_token"]
    readonly_fields = [f.name for f in ConnectedAccount._meta.fields if f.name not in SECRETS]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConnectedAccount]:
        return super().get_queryset(request).defer(*SECRETS[:2])

    def key_filter(self, term: str) -> Q:
        return Q(remote_login=term) | Q(url=term)


@admin.register(Like)
class LikeAdmin(ReadOnlyAdminMixin, LargeTableMixin, IndexedSearchMixin, admin.ModelAdmin):
    list_display = ["id", "supporter", "account_id", "url", "state", "reason", "period", "seen_at"]
    list_filter = ["state", "reason"]
    list_select_related = ["supporter"]
    user_search_field = "supporter"
    readonly_fields = [f.name for f in Like._meta.fields]
    raw_id_fields = ["account", "thing"]


@admin.register(InstanceApp)
class InstanceAppAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["base_url", "client_id", "scopes", "created_at"]
    exclude = ["client_secret"]
    readonly_fields = ["base_url", "client_id", "scopes", "redirect_uri", "created_at"]
    search_fields = ["=base_url"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InstanceApp]:
        return super().get_queryset(request).defer("client_secret")
