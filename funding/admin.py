"""Charges and transfers of pay after the month in the admin: read-only
lists (filtered by run and state; no full counts on large tables), and a
"retry now" for a declined charge, confirmed on the charge's own page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from funding.models import Charge, Transfer
from funding.retry import RETRYABLE, RetryRefused, charge_retry_now


class ReadOnly(admin.ModelAdmin):
    show_full_result_count = False

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
    search_fields = ("supporter__email", "payment_intent_id")
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
    search_fields = ("idempotency_key", "transfer_id")
    raw_id_fields = ("payout",)
