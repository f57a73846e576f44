from django.urls import path

from claims import views

urlpatterns = [
    path("claims/", views.claim_list, name="claims"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/check/", views.claim_check, name="claim_check"),
    path("claims/<int:pk>/token/", views.claim_token, name="claim_token"),
    path("claims/accounts/", views.proven_accounts, name="proven_accounts"),
    path(
        "claims/accounts/<int:pk>/check/", views.proven_account_check, name="proven_account_check"
    ),
    path(
        "claims/accounts/<int:pk>/remove/",
        views.proven_account_remove,
        name="proven_account_remove",
    ),
    path("unclaimed/", views.unclaimed, name="unclaimed"),
]
