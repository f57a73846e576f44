from django.urls import path

from notifications import views, webhook_views

urlpatterns = [
    path("settings/notifications/", views.notification_settings, name="notification_settings"),
    path(
        "notifications/unsubscribe/<str:token>/",
        views.unsubscribe,
        name="notification_unsubscribe",
    ),
    path("settings/webhooks/", webhook_views.webhook_list, name="webhook_list"),
    path("settings/webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook_detail"),
    path(
        "settings/webhooks/<int:pk>/<str:action>/",
        webhook_views.webhook_action,
        name="webhook_action",
    ),
    path(
        "settings/webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver/",
        webhook_views.webhook_redeliver,
        name="webhook_redeliver",
    ),
]
