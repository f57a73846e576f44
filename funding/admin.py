"""Charges and transfers of pay after the month in the admin: read-only
lists (filtered by run and state; no full counts on large tables), and a
"retry now" for a declined charge, confirmed on the charge's own page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from core.admin_utils import IndexedSearchMixin, LargeTableMixin
from funding.models import Charge, ChargeAttempt, Transfer
from funding.retry import RETRYABLE, RetryRefused, charge_retry_now


class ReadOnly(LargeTableMixin, IndexedSearchMixin, admin.ModelAdmin):
    """A supporter's or creator's rows each month: exact searches, estimated
    counts."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Charge)
class ChargeAdmin(ReadOnly):
    list_display = (
        "run",
        "supporter",
        "amount",
        "status",
        "reason",
        "attempts",
        "next_attempt_at",
        "debit_from",
    )
    list_filter = ("status", "run")
    list_select_related = ("run", "supporter")
    user_search_field = "supporter"
    raw_id_fields = ("run", "supporter")
    change_form_template = "funding/admin/charge_change_form.html"

    def get_urls(self):
        return [
            path(
                "<int:pk>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="funding_charge_retry",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_retry": request.user.has_perm("payouts.approve_payoutrun"),
            "retryable": RETRYABLE,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def key_filter(self, term: str) -> Q:
        # A payment intent is indexed on the attempts that made it.
        return Q(pk__in=ChargeAttempt.objects.filter(payment_intent_id=term).values("charge_id"))

    def retry_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm("payouts.approve_payoutrun"):
            raise PermissionDenied
        charge = get_object_or_404(Charge.objects.select_related("run", "supporter"), pk=pk)
        if request.method == "POST":
            try:
                charge = charge_retry_now(charge_id=charge.pk)
            except RetryRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    _("Tried again: %(status)s.") % {"status": charge.get_status_display()},
                )
            return redirect("admin:funding_charge_change", charge.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "charge": charge,
            "title": _("Retry this charge now?"),
        }
        return TemplateResponse(request, "funding/admin/charge_retry.html", context)


@admin.register(Transfer)
class TransferAdmin(ReadOnly):
    list_display = ("idempotency_key", "payout", "amount", "reversed", "status", "created_at")
    list_filter = ("status", "payout__run")
    list_select_related = ("payout",)
    user_search_field = "payout__creator"
    raw_id_fields = ("payout",)

    def key_filter(self, term: str) -> Q:
        return Q(idempotency_key=term)
