from typing import cast

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core import csv as safe_csv
from core.admin_utils import (
    EstimatedCountPaginator,
    EuroFieldsMixin,
    IndexedSearchMixin,
    ReadOnlyAdminMixin,
    money_column,
)
from payouts import selectors, services
from payouts.models import (
    COMPUTING_STAGES,
    POSTING_STAGES,
    CreatorLine,
    PayoutRun,
    RunStatus,
    SupporterLine,
)
from payouts.services.compute import progress_key
from payouts.services.demo import payout_demo_close

ACTIONS = {
    "recompute": (
        _("Recompute"),
        _("Compute this draft again from the current flattrs, budgets and wallets."),
    ),
    "approve": (
        _("Approve"),
        _("Approve the run: its money is posted to the ledger right after, once."),
    ),
    "cancel": (_("Cancel"), _("Cancel the run: nothing is posted and the month will not be paid.")),
}

# The permission each export needs besides viewing runs: the lines it lists.
EXPORT_PERMISSIONS = {
    "supporters": "payouts.view_supporterline",
    "creators": "payouts.view_creatorline",
}


def _in_progress(run: PayoutRun) -> bool:
    """Computing or posting, or approved and waiting for its posting task."""
    return run.status == RunStatus.APPROVED or run.stage in (*COMPUTING_STAGES, *POSTING_STAGES)


def _conservation_sum(run: PayoutRun) -> int:
    """The right-hand side of the run's check (docs/payouts.md): what
    creators kept, received onward, the fee, the holdings (held onward
    shares included) and charity; a share passed on counts once."""
    return run.net - run.onward + run.onward_received + run.fee + run.unclaimed + run.charity


@admin.register(PayoutRun)
class PayoutRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Fits a 1280 px laptop beside the admin's menu: one run per month needs
    # no status filter, and the stage shows in the status while work runs.
    list_display = [
        "label",
        "status_display",
        "supporters",
        "flattrs",
        "taken_display",
        "fee_display",
        "net_display",
        "unclaimed_display",
        "conservation_ok",
    ]
    ordering = ["-period"]
    show_full_result_count = False
    change_form_template = "admin/payouts/payoutrun/review.html"

    @admin.display(description=_("period"), ordering="period")
    def label(self, obj):
        return obj.label

    taken_display = money_column("taken", _("taken"), sortable=True)

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj):
        if _in_progress(obj):
            return f"{obj.get_status_display()} ({obj.stage})"
        return obj.get_status_display()

    fee_display = money_column("fee", _("fees"), sortable=True)
    net_display = money_column("net", _("net"), sortable=True)
    unclaimed_display = money_column("unclaimed", _("unclaimed"), sortable=True)

    def get_urls(self):
        return [
            path(
                "<int:pk>/do/<str:action>/",
                self.admin_site.admin_view(self.action_view),
                name="payouts_payoutrun_action",
            ),
            path(
                "demo/",
                self.admin_site.admin_view(self.demo_view),
                name="payouts_payoutrun_demo",
            ),
            path(
                "<int:pk>/export/<str:kind>.csv",
                self.admin_site.admin_view(self.export_view),
                name="payouts_payoutrun_export",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "demo_enabled": settings.DEBUG}
        return super().changelist_view(request, extra_context)

    def demo_view(self, request):
        """DEBUG only: close a demo month and compute its run (payout_demo)."""
        if not settings.DEBUG or not request.user.has_perm("payouts.change_payoutrun"):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            run = payout_demo_close(actor=cast(User, request.user))
        except services.PayoutError as exc:
            messages.error(request, str(exc))
            return redirect("admin:payouts_payoutrun_changelist")
        messages.success(
            request,
            _("Demo month %(month)s closed and computed: review it, then approve.")
            % {"month": run.label},
        )
        return redirect("admin:payouts_payoutrun_change", run.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Refused before the run's figures are read (Django would refuse
        # too, but only after this method computed them).
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        # ModelAdmin.get_object answers None for an id that is not one (":"),
        # where get_object_or_404 would raise ValueError: a 404, not a 500.
        run = self.get_object(request, unquote(object_id))
        if run is None:
            raise Http404
        extra_context = {
            **(extra_context or {}),
            "run": run,
            "posting_started": run.stage in POSTING_STAGES,
            "live_progress": cache.get(progress_key(run.pk))
            if run.stage in (*COMPUTING_STAGES, *POSTING_STAGES)
            else "",
            "top_creators": selectors.top_creators(run=run),
            "onward": selectors.onward_figures(run=run),
            "suspicious": selectors.suspicious_creators(run=run),
            "events": run.events.select_related("actor"),
            "can_approve": request.user.has_perm("payouts.approve_payoutrun"),
            "supporter_lines_url": reverse("admin:payouts_supporterline_changelist")
            + f"?run__id__exact={run.pk}",
            "creator_lines_url": reverse("admin:payouts_creatorline_changelist")
            + f"?run__id__exact={run.pk}",
            "conservation_sum": _conservation_sum(run),
            # The page follows a job in progress by reloading itself (the
            # admin base_site template turns this into a meta refresh).
            "refresh_seconds": 3 if _in_progress(run) else None,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def action_view(self, request: HttpRequest, pk: int, action: str):
        if action not in ACTIONS:
            raise PermissionDenied
        if action == "approve" and not request.user.has_perm("payouts.approve_payoutrun"):
            raise PermissionDenied
        if not request.user.has_perm("payouts.change_payoutrun") and not request.user.has_perm(
            "payouts.approve_payoutrun"
        ):
            raise PermissionDenied
        run = get_object_or_404(PayoutRun, pk=pk)
        if request.method == "POST":
            try:
                if action == "recompute":
                    services.payout_run_compute(
                        period=run.period, recompute=True, actor=cast(User, request.user)
                    )
                elif action == "approve":
                    services.payout_run_approve(run=run, actor=cast(User, request.user))
                else:
                    services.payout_run_cancel(
                        run=run, actor=cast(User, request.user), note=request.POST.get("note", "")
                    )
            except services.PayoutError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Done: %(action)s.") % {"action": ACTIONS[action][0]})
            return redirect("admin:payouts_payoutrun_change", run.pk)
        title, explanation = ACTIONS[action]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "run": run,
            "action": action,
            "title": f"{title}: {run.label}",
            "explanation": explanation,
            "conservation_sum": _conservation_sum(run),
        }
        return TemplateResponse(request, "admin/payouts/payoutrun/confirm.html", context)

    def export_view(self, request: HttpRequest, pk: int, kind: str):
        """Streamed CSV of a run's supporter or creator lines: needs the view
        permission of the run and of those lines (the lines' own admin list
        asks the same), like every other admin page."""
        if kind not in EXPORT_PERMISSIONS:
            raise Http404
        if not self.has_view_permission(request) or not request.user.has_perm(
            EXPORT_PERMISSIONS[kind]
        ):
            raise PermissionDenied
        run = get_object_or_404(PayoutRun, pk=pk)

        class Echo:
            def write(self, value):
                return value

        writer = safe_csv.writer(Echo())
        rows = selectors.payout_report_rows(run=run, roles=(kind[:-1],), euros=True)

        def stream():
            for row in rows:
                yield writer.writerow(row)

        response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="payout-{run.label}-{kind}.csv"'
        return response


class LineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Choices come from the runs table: RelatedOnlyFieldListFilter would
    # scan millions of lines for their distinct runs on every page load.
    list_filter = ["run"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50


@admin.register(SupporterLine)
class SupporterLineAdmin(EuroFieldsMixin, IndexedSearchMixin, LineAdmin):
    money_fields = {
        "budget": _("budget"),
        "balance": _("wallet"),
        "taken": _("taken"),
        "charity": _("charity"),
    }
    user_search_field = "supporter"
    list_display = [
        "run",
        "supporter",
        "budget_display",
        "balance_display",
        "taken_display",
        "flattrs",
        "charity_display",
    ]
    list_select_related = ["run", "supporter"]
    ordering = ["-taken", "id"]

    budget_display = money_column("budget", _("budget"))
    balance_display = money_column("balance", _("wallet"))
    taken_display = money_column("taken", _("taken"), sortable=True)
    charity_display = money_column("charity", _("charity"))


@admin.register(CreatorLine)
class CreatorLineAdmin(EuroFieldsMixin, IndexedSearchMixin, LineAdmin):
    money_fields = {"gross": _("gross"), "fee": _("fee"), "net": _("net")}
    user_search_field = "creator"
    list_display = [
        "run",
        "creator",
        "gross_display",
        "fee_display",
        "net_display",
        "flattrs",
        "profile",
    ]
    list_select_related = ["run", "creator"]
    ordering = ["-gross", "id"]

    gross_display = money_column("gross", _("gross"), sortable=True)
    fee_display = money_column("fee", _("fee"))
    net_display = money_column("net", _("net"))

    @admin.display(description="")
    def profile(self, obj):
        return format_html('<a href="{}">{}</a>', obj.creator.get_absolute_url(), _("profile"))
