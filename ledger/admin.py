from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.admin_utils import IndexedSearchMixin, LargeTableMixin, ReadOnlyAdminMixin
from core.money import EuroAmountField, format_cents
from ledger import selectors, services
from ledger.models import Account, AccountKind, Posting, Transaction


def _money(cents):
    return format_cents(cents)


class LedgerSearchMixin(IndexedSearchMixin):
    search_help_text = _(
        "Exact e-mail address or username of the owner, account reference or"
        " idempotency key, or an id."
    )


class PostingInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Posting
    fields = ["account", "amount_display"]
    readonly_fields = ["account", "amount_display"]
    extra = 0
    can_delete = False

    @admin.display(description=_("amount"))
    def amount_display(self, obj):
        return _money(obj.amount)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("account__user")


@admin.register(Account)
class AccountAdmin(LargeTableMixin, LedgerSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "kind", "owner", "ref", "balance_display", "created_at", "adjust_link"]
    list_filter = ["kind"]
    search_fields = ["user__email"]  # shows the box; see LedgerSearchMixin
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["kind", "user", "ref", "balance_display", "created_at", "adjust_link"]
    fields = (*readonly_fields,)

    def get_list_display(self, request: HttpRequest):
        fields = super().get_list_display(request)
        return fields if self._may_adjust(request) else [f for f in fields if f != "adjust_link"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if self._may_adjust(request) else [f for f in fields if f != "adjust_link"]

    def get_fields(self, request: HttpRequest, obj=None):
        return self.get_readonly_fields(request, obj)

    @staticmethod
    def _may_adjust(request: HttpRequest) -> bool:
        return request.user.has_perm("ledger.adjust_wallet")

    def key_filter(self, term: str) -> Q:
        return Q(user__isnull=True, ref=term)

    @admin.display(description=_("owner"), ordering="user__email")
    def owner(self, obj):
        return obj.user.email if obj.user_id else "—"

    @admin.display(description=_("balance"), ordering="balance")
    def balance_display(self, obj):
        return _money(obj.balance)

    @admin.display(description=_("correction"))
    def adjust_link(self, obj):
        if obj.kind != AccountKind.WALLET:
            return "—"
        url = reverse("admin:ledger_account_adjust", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Adjust balance…"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="ledger_account_adjust",
            ),
            *super().get_urls(),
        ]

    def adjust_view(self, request: HttpRequest, pk: int):
        if not request.user.has_perm("ledger.adjust_wallet"):
            raise PermissionDenied
        account = get_object_or_404(
            Account.objects.select_related("user"), pk=pk, kind=AccountKind.WALLET
        )
        user = account.user
        if user is None:  # wallets always belong to a user
            raise Http404
        form = AdjustForm(request.POST or None)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust the wallet of %(email)s") % {"email": user.email},
            "account": account,
            "balance": account.balance,
            "form": form,
            "opts": self.model._meta,
        }
        if request.method == "POST" and form.is_valid():
            amount = form.cleaned_data["amount"]
            new_balance = account.balance + amount
            if new_balance < 0:
                form.add_error("amount", _("The wallet cannot go below zero."))
                return TemplateResponse(request, "admin/ledger/adjust.html", context)
            if "confirm" not in request.POST:
                context.update(confirm=True, amount=amount, new_balance=new_balance)
                return TemplateResponse(request, "admin/ledger/adjust.html", context)
            try:
                txn = services.wallet_adjust(
                    user=user,
                    amount_cents=amount,
                    reason=form.cleaned_data["reason"],
                    staff=cast(User, request.user),  # the admin: a staff user
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except services.InsufficientFunds:
                form.add_error("amount", _("The wallet cannot go below zero."))
            except services.AdjustmentRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Posted transaction #%(id)s; the wallet now holds %(balance)s.")
                    % {
                        "id": txn.pk,
                        "balance": _money(selectors.wallet_balance(user=user)),
                    },
                )
                return redirect("admin:ledger_account_change", account.pk)
        return TemplateResponse(request, "admin/ledger/adjust.html", context)


class AdjustForm(forms.Form):
    amount = EuroAmountField(
        label=_("Amount (€)"),
        help_text=_("Positive credits the wallet, negative debits it."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=400)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import uuid

        super().__init__(*args, **kwargs)
        self.fields["idempotency_key"].initial = f"adjustment:{uuid.uuid4()}"
        # Signed amounts: EuroAmountField refuses negatives by default.
        self.fields["amount"].clean = self._clean_signed_amount  # type: ignore[method-assign]

    def clean_idempotency_key(self):
        # Only keys this form made: another transaction's key would "find"
        # that transaction instead of posting the adjustment.
        key = self.cleaned_data["idempotency_key"]
        if not key.startswith("adjustment:") or len(key) > 200:
            raise forms.ValidationError(_("This form has expired; open it again."))
        return key

    def _clean_signed_amount(self, value):
        from core.money import AmountTooLarge, parse_euros

        limit = settings.FLATTR_MAX_ADJUSTMENT_CENTS
        too_large = forms.ValidationError(
            _("The maximum adjustment is %(amount)s either way.") % {"amount": format_cents(limit)}
        )
        try:
            cents = parse_euros(str(value or ""), allow_negative=True)
        except AmountTooLarge:
            raise too_large
        except ValueError:
            raise forms.ValidationError(_("Enter an amount in euros with at most two decimals."))
        if cents == 0:
            raise forms.ValidationError(_("The amount must not be zero."))
        if abs(cents) > limit:
            raise too_large
        return cents


@admin.register(Transaction)
class TransactionAdmin(LargeTableMixin, LedgerSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "kind", "idempotency_key", "memo", "created_at", "created_by"]
    list_filter = ["kind"]
    search_fields = ["idempotency_key"]  # shows the box; see LedgerSearchMixin
    list_select_related = ["created_by"]
    inlines = [PostingInline]
    raw_id_fields = ["created_by"]
    readonly_fields = ["kind", "idempotency_key", "memo", "created_at", "created_by"]
    fields = (*readonly_fields,)
    date_hierarchy = None

    def owner_filter(self, user_ids: list[int]) -> Q:
        # Transactions touching the owner's accounts: a semi-join through
        # the (account, -id) postings index.
        return Q(pk__in=Posting.objects.filter(account__user__in=user_ids).values("transaction_id"))

    def key_filter(self, term: str) -> Q:
        return Q(idempotency_key=term)


@admin.register(Posting)
class PostingAdmin(LargeTableMixin, LedgerSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "transaction", "account", "amount_display"]
    search_fields = ["account__user__email"]  # shows the box; see LedgerSearchMixin
    list_select_related = ["transaction", "account__user"]
    raw_id_fields = ["transaction", "account"]

    def owner_filter(self, user_ids: list[int]) -> Q:
        return Q(account__user__in=user_ids)

    def key_filter(self, term: str) -> Q:
        return Q(transaction__idempotency_key=term)

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return _money(obj.amount)
