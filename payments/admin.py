import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_utils import EuroFieldsMixin, LargeTableMixin, ReadOnlyAdminMixin
from payments.models import TopUp, WebhookEvent


@admin.register(TopUp)
class TopUpAdmin(LargeTableMixin, EuroFieldsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    money_fields = {
        "amount_cents": _("amount"),
        "fee_cents": _("processor fee"),
        "reversed_cents": _("refunded"),
    }
    list_display = [
        "id",
        "user",
        "amount_cents",
        "fee_cents",
        "reversed_cents",
        "status",
        "gateway",
        "created_at",
    ]
    list_filter = ["status", "gateway"]
    search_fields = [
        "user__email__iexact",
        "checkout_session_id__exact",
        "payment_intent_id__exact",
        "charge_id__exact",
    ]
    list_select_related = ["user"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(LargeTableMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["event_id", "type", "result", "detail", "received_at"]
    list_filter = ["result", "type"]
    search_fields = ["event_id__exact"]
    fields = ["event_id", "type", "result", "detail", "received_at", "payload_display"]
    readonly_fields = fields

    @admin.display(description=_("payload (as signed by Stripe)"))
    def payload_display(self, obj):
        try:
            text = json.dumps(json.loads(obj.payload), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.payload
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)
