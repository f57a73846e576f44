from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from core.admin_utils import EstimatedCountPaginator, EuroFieldsMixin
from core.money import format_cents
from payments.withdrawals import services
from payments.withdrawals.models import PayoutAccount, Withdrawal, WithdrawalStatus


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the creator)"), max_length=500, required=False
    )

    def __init__(self, *args, needs_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # A rejection tells the creator why: asked here, as a form error,
        # rather than refused withdrawal by withdrawal by the service.
        self.fields["reason"].required = needs_reason


def _done_message(action: str, done: int) -> str:
    if action == "approve":
        return ngettext("Approved %(n)s withdrawal.", "Approved %(n)s withdrawals.", done) % {
            "n": done
        }
    return ngettext("Rejected %(n)s withdrawal.", "Rejected %(n)s withdrawals.", done) % {"n": done}


def _review(request: HttpRequest, withdrawal: Withdrawal, action: str, reason: str) -> None:
    """One review through the services (four eyes included); a refusal is
    shown to the reviewer and moves nothing."""
    staff = cast(User, request.user)
    if action == "approve":
        services.withdrawal_approve(withdrawal=withdrawal, staff=staff)
    else:
        services.withdrawal_reject(withdrawal=withdrawal, staff=staff, reason=reason)


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
    # The object page adds Approve… and Reject… (to a confirmation page,
    # like the list's actions) to a withdrawal awaiting review.
    change_form_template = "admin/withdrawals/change_form.html"
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

    def get_urls(self):
        return [
            path(
                "<int:pk>/review/<str:action>/",
                self.admin_site.admin_view(self.review_view),
                name="withdrawals_withdrawal_review",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_review": False}
        withdrawal = self.get_object(request, unquote(object_id))
        if (
            withdrawal is not None
            and withdrawal.status == WithdrawalStatus.AWAITING_REVIEW
            and self.has_change_permission(request, withdrawal)
        ):
            extra_context["can_review"] = True
            # Four eyes: nobody approves their own withdrawal (the service
            # refuses it too); they may still reject it.
            extra_context["can_approve"] = withdrawal.user_id != request.user.pk
        return super().change_view(request, object_id, form_url, extra_context)

    def review_view(self, request: HttpRequest, pk: int, action: str):
        if action not in ("approve", "reject") or not self.has_change_permission(request):
            raise PermissionDenied
        withdrawal = get_object_or_404(Withdrawal, pk=pk)
        change_url = reverse("admin:withdrawals_withdrawal_change", args=[withdrawal.pk])
        if withdrawal.status != WithdrawalStatus.AWAITING_REVIEW:
            self.message_user(
                request, _("This withdrawal no longer awaits review."), messages.WARNING
            )
            return redirect(change_url)
        needs_reason = action == "reject"
        form = ReasonForm(
            request.POST if request.method == "POST" else None, needs_reason=needs_reason
        )
        if request.method == "POST" and form.is_valid():
            try:
                _review(request, withdrawal, action, form.cleaned_data["reason"])
            except services.WithdrawalRefused as exc:
                self.message_user(request, f"#{withdrawal.pk}: {exc}", messages.ERROR)
            else:
                self.message_user(request, _done_message(action, 1), messages.SUCCESS)
            return redirect(change_url)
        title = (
            _("Approve this withdrawal?") if action == "approve" else _("Reject this withdrawal?")
        )
        return self._confirm_page(request, [withdrawal], action, title, form, back_url=change_url)

    def _confirm_page(self, request, withdrawals, action, title, form, *, back_url, selected=False):
        return TemplateResponse(
            request,
            "admin/withdrawals/confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "withdrawals": withdrawals,
                "total": format_cents(sum(w.amount_cents for w in withdrawals)),
                "action": action,
                "form": form,
                "needs_reason": action == "reject",
                "selected": selected,
                "back_url": back_url,
                "opts": self.model._meta,
            },
        )

    def _confirm(self, request, queryset, action, title):
        withdrawals = list(queryset.filter(status=WithdrawalStatus.AWAITING_REVIEW))
        form = ReasonForm(
            request.POST if "confirm" in request.POST else None,
            needs_reason=action == "reject",
        )
        if "confirm" in request.POST and form.is_valid():
            done = 0
            for withdrawal in withdrawals:
                try:
                    _review(request, withdrawal, action, form.cleaned_data["reason"])
                    done += 1
                except services.WithdrawalRefused as exc:
                    self.message_user(request, f"#{withdrawal.pk}: {exc}", messages.ERROR)
            if done or not withdrawals:
                self.message_user(request, _done_message(action, done), messages.SUCCESS)
            return redirect(request.get_full_path())
        return self._confirm_page(
            request,
            withdrawals,
            action,
            title,
            form,
            back_url=reverse("admin:withdrawals_withdrawal_changelist"),
            selected=True,
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
