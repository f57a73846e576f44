from django.urls import path

from payments import method_views, views

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
    path("settings/payment-method/", method_views.payment_method, name="payment_method"),
    path(
        "settings/payment-method/save/",
        method_views.payment_method_setup,
        name="payment_method_setup",
    ),
    path(
        "settings/payment-method/return/",
        method_views.payment_method_return,
        name="payment_method_return",
    ),
    path(
        "settings/payment-method/remove/",
        method_views.payment_method_remove,
        name="payment_method_remove",
    ),
    path(
        "settings/payment-method/test-checkout/<str:session_id>/",
        method_views.payment_method_test_checkout,
        name="payment_method_test_checkout",
    ),
]
