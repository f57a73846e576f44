from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin_utils import EstimatedCountPaginator, EuroFieldsMixin
from core.money import format_cents
from payments.withdrawals import services
from payments.withdrawals.models import PayoutAccount, Withdrawal, WithdrawalStatus


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the creator)"), max_length=500, required=False
    )


@admin.register(Withdrawal)
class WithdrawalAdmin(EuroFieldsMixin, admin.ModelAdmin):
    money_fields = {"amount_cents": _("amount")}
    list_display = [
        "id",
        "user",
        "kind",
        "amount_cents",
        "status",
        "created_at",
        "reviewed_by",
        "stripe_transfer_id",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["user__email__iexact", "stripe_transfer_id__exact"]
    list_select_related = ["user", "reviewed_by"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # Newest first through the primary key: "-created_at" has no index of
    # its own and sorted the whole table on every visit. Fifty rows a page:
    # rendering 100 rows of nine cells was most of the remaining time.
    ordering = ["-id"]
    list_per_page = 50
    actions = ["approve", "reject"]
    fields = [
        "user",
        "kind",
        "amount_cents",
        "status",
        "refund_plan",
        "stripe_transfer_id",
        "reviewed_by",
        "reviewed_at",
        "reason",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [f.name for f in Withdrawal._meta.fields if f.name != "refunds"] + [
        "refund_plan"
    ]

    @admin.display(description=_("refunds"))
    def refund_plan(self, obj):
        """A wallet refund's charges, in euros, with the processor's answer."""
        if not obj.refunds:
            return "-"
        return format_html_join(
            "",
            "<div>{} #{}: {} {}</div>",
            (
                (
                    _("top-up"),
                    item["topup_id"],
                    format_cents(item["amount_cents"]),
                    item.get("refund_id") or item.get("error") or _("not refunded yet"),
                )
                for item in obj.refunds
            ),
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _confirm(self, request, queryset, action, title):
        queryset = queryset.filter(status=WithdrawalStatus.AWAITING_REVIEW)
        form = ReasonForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and form.is_valid():
            done = 0
            for withdrawal in queryset:
                try:
                    if action == "approve":
                        services.withdrawal_approve(withdrawal=withdrawal, staff=request.user)
                    else:
                        services.withdrawal_reject(
                            withdrawal=withdrawal,
                            staff=request.user,
                            reason=form.cleaned_data["reason"],
                        )
                    done += 1
                except services.WithdrawalRefused as exc:
                    self.message_user(request, f"#{withdrawal.pk}: {exc}", messages.ERROR)
            self.message_user(
                request, _("%(n)s withdrawals: %(action)s.") % {"n": done, "action": action}
            )
            return redirect(request.get_full_path())
        return TemplateResponse(
            request,
            "admin/withdrawals/confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "withdrawals": queryset,
                "total": format_cents(sum(w.amount_cents for w in queryset)),
                "action": action,
                "form": form,
                "needs_reason": action == "reject",
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Approve selected withdrawals…"), permissions=["change"])
    def approve(self, request, queryset):
        return self._confirm(request, queryset, "approve", _("Approve these withdrawals?"))

    @admin.action(description=_("Reject selected withdrawals…"), permissions=["change"])
    def reject(self, request, queryset):
        return self._confirm(request, queryset, "reject", _("Reject these withdrawals?"))


@admin.register(PayoutAccount)
class PayoutAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "status", "stripe_account_id", "test_mode", "updated_at"]
    list_filter = ["status", "test_mode"]
    search_fields = ["user__email__iexact", "stripe_account_id__exact"]
    list_select_related = ["user"]
    show_full_result_count = False
    readonly_fields = [
        "user",
        "stripe_account_id",
        "status",
        "test_mode",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False
