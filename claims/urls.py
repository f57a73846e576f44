from django.urls import path

from claims import views

urlpatterns = [
    path("claims/", views.claim_list, name="claims"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/check/", views.claim_check, name="claim_check"),
    path("claims/<int:pk>/token/", views.claim_token, name="claim_token"),
    path("unclaimed/", views.unclaimed, name="unclaimed"),
]
