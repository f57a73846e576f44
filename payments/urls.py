from django.urls import path

from payments import views

urlpatterns = [
    path("wallet/", views.wallet, name="wallet"),
    path("wallet/topup/", views.topup, name="topup"),
    path("wallet/topup/<int:pk>/", views.topup_return, name="topup_return"),
    path("wallet/topup/<int:pk>/cancel/", views.topup_cancel, name="topup_cancel"),
    path(
        "wallet/topup/<int:pk>/test-checkout/",
        views.topup_test_checkout,
        name="topup_test_checkout",
    ),
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
