from django.urls import path

from likes import views

urlpatterns = [
    path("settings/connected/", views.connected, name="likes_connected"),
    path("settings/connected/mastodon/", views.mastodon_start, name="likes_mastodon_start"),
    path(
        "settings/connected/mastodon/callback/",
        views.mastodon_callback,
        name="likes_mastodon_callback",
    ),
    path("settings/connected/github/", views.github_start, name="likes_github_start"),
    path(
        "settings/connected/github/callback/", views.github_callback, name="likes_github_callback"
    ),
    path("settings/connected/feed/", views.feed_add, name="likes_feed_add"),
    path("settings/connected/<int:pk>/switch/", views.account_switch, name="likes_account_switch"),
    path(
        "settings/connected/<int:pk>/disconnect/",
        views.account_disconnect,
        name="likes_account_disconnect",
    ),
    path("settings/connected/waiting/", views.waiting, name="likes_waiting"),
    path(
        "settings/connected/waiting/<int:pk>/flattr/",
        views.waiting_flattr,
        name="likes_waiting_flattr",
    ),
]
