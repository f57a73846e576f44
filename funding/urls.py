from django.urls import path

from funding import views_charges

urlpatterns = [
    path("months/charges/<int:pk>/confirm/", views_charges.charge_confirm, name="charge_confirm"),
    path(
        "months/charges/<int:pk>/confirmed/",
        views_charges.charge_confirmed,
        name="charge_confirmed",
    ),
]
