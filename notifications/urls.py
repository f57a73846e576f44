from django.urls import path

from notifications import views

urlpatterns = [
    path("settings/notifications/", views.notification_settings, name="notification_settings"),
    path(
        "notifications/unsubscribe/<str:token>/",
        views.unsubscribe,
        name="notification_unsubscribe",
    ),
]
