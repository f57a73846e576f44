from django.contrib import admin

from notifications.models import (
    Email,
    Event,
    NotificationSettings,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "type", "recipient", "key", "dispatched_at"]
    list_filter = ["type"]
    search_fields = ["key"]
    raw_id_fields = ["recipient"]
    readonly_fields = ["id", "type", "recipient", "data", "key", "created_at", "dispatched_at"]

    # Events are published by the apps' services (event_publish), never typed
    # in: an add form of read-only fields could only save an empty event.
    def has_add_permission(self, request):
        return False


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = ["event", "to", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    search_fields = ["to"]
    raw_id_fields = ["event"]


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "language", "digest"]
    raw_id_fields = ["user"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "owner", "enabled", "failing_since", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["url"]
    raw_id_fields = ["owner"]
    exclude = ["secret", "previous_secret"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "status_code", "response_body", "error"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "endpoint", "event", "status", "attempts", "next_attempt_at"]
    list_filter = ["status"]
    raw_id_fields = ["endpoint", "event"]
    inlines = [WebhookAttemptInline]
