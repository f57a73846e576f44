from django.urls import path

from payouts import views

urlpatterns = [path("months/", views.my_months, name="my_months")]
