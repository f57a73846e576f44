from django.urls import path

from payments.withdrawals import views

urlpatterns = [
    path("earnings/", views.earnings, name="earnings"),
    path("earnings/earnings.csv", views.earnings_csv, name="earnings_csv"),
    path("earnings/connect/", views.payout_account_connect, name="payout_account_connect"),
    path("earnings/connect/test/", views.payout_account_test, name="payout_account_test"),
]
