from django.urls import path

from accounts import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("settings/", views.settings_view, name="settings"),
    path("u/<str:username>/", views.profile, name="profile"),
]
