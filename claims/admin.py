from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from claims import services
from claims.models import Claim, ClaimState, ProvenAccount
from claims.reasons import reason_text


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ["url", "kind", "creator", "method", "state", "reason", "created_at"]
    list_filter = ["state", "kind", "method"]
    search_fields = ["url", "host", "creator__username", "creator__email"]
    list_select_related = ["creator"]
    actions = ["approve", "reject"]
    readonly_fields = [f.name for f in Claim._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("reason"))
    def reason(self, obj):
        return reason_text(obj.reason_code, obj.reason_params) if obj.reason_code else ""

    def _review(self, request, queryset, service, done):
        count = 0
        for claim in queryset.filter(state=ClaimState.REVIEW):
            try:
                service(claim=claim, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                count += 1
        self.message_user(request, done % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Approve: give the site to this creator"), permissions=["change"])
    def approve(self, request, queryset):
        self._review(
            request, queryset, services.claim_review_approve, _("%(count)s claims approved.")
        )

    @admin.action(description=_("Reject the claim"), permissions=["change"])
    def reject(self, request, queryset):
        self._review(
            request, queryset, services.claim_review_reject, _("%(count)s claims rejected.")
        )


@admin.register(ProvenAccount)
class ProvenAccountAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "kind", "host", "method", "status", "proven_at"]
    list_filter = ["status", "kind", "method"]
    search_fields = ["username", "host", "user__username", "user__email"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in ProvenAccount._meta.fields]

    def has_add_permission(self, request):
        return False
