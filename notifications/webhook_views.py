"""The creator's webhooks pages: endpoints, their secret, the delivery log
with "redeliver" and "send test event"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.forms import form_add_refusal
from notifications import webhooks
from notifications.forms import WebhookEndpointForm
from notifications.models import WebhookDelivery, WebhookEndpoint


@login_required
def webhook_list(request):
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhooks.webhook_endpoint_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_add_refusal(form, error)
        else:
            messages.success(request, _("The endpoint was added."))
            return redirect("webhook_detail", pk=endpoint.pk)
    endpoints = WebhookEndpoint.objects.filter(owner=request.user).order_by("-created_at")
    return render(request, "notifications/webhooks.html", {"form": form, "endpoints": endpoints})


@login_required
def webhook_detail(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk, owner=request.user)
    form = WebhookEndpointForm(
        request.POST or None,
        initial={"url": endpoint.url, "description": endpoint.description, "types": endpoint.types},
    )
    if request.method == "POST" and form.is_valid():
        try:
            webhooks.webhook_endpoint_update(endpoint=endpoint, **form.cleaned_data)
        except ValidationError as error:
            endpoint.refresh_from_db()
            form_add_refusal(form, error)
        else:
            messages.success(request, _("The endpoint was saved."))
            return redirect("webhook_detail", pk=endpoint.pk)
    deliveries = (
        endpoint.deliveries.select_related("event")
        .prefetch_related("attempt_log")
        .order_by("-created_at")[:50]
    )
    return render(
        request,
        "notifications/webhook_detail.html",
        {"endpoint": endpoint, "form": form, "deliveries": deliveries},
    )


@login_required
@require_POST
def webhook_action(request, pk: int, action: str):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk, owner=request.user)
    if action == "test":
        webhooks.webhook_test_send(endpoint=endpoint)
        messages.success(request, _("A test event is on its way."))
    elif action == "rotate":
        webhooks.webhook_secret_rotate(endpoint=endpoint)
        messages.success(
            request, _("New secret made. The old one also signs for the next 24 hours.")
        )
    elif action in ("enable", "disable"):
        webhooks.webhook_endpoint_set_enabled(endpoint=endpoint, enabled=action == "enable")
    elif action == "delete":
        endpoint.delete()
        messages.success(request, _("The endpoint was deleted."))
        return redirect("webhook_list")
    return redirect("webhook_detail", pk=endpoint.pk)


@login_required
@require_POST
def webhook_redeliver(request, pk: int, delivery_id: int):
    delivery = get_object_or_404(
        WebhookDelivery, pk=delivery_id, endpoint__pk=pk, endpoint__owner=request.user
    )
    webhooks.webhook_redeliver(delivery=delivery)
    messages.success(request, _("The event is being delivered again."))
    return redirect("webhook_detail", pk=pk)
