from django.urls import path

from buttons import views
from buttons.views import subscriptions as subscription_views

urlpatterns = [
    path("button.js", views.button_js, name="button_js"),
    path("embed/<int:pk>/", views.embed, name="embed"),
    path("embed/auto/", views.embed_auto, name="embed_auto"),
    path("submit/auto", views.auto_submit, name="auto_submit"),
    path("explore/", views.explore, name="explore"),
    path("things/mine/", views.my_things, name="my_things"),
    path("things/auto-submit/", views.auto_submit_settings, name="auto_submit_settings"),
    path("things/new/", views.thing_new, name="thing_new"),
    path("things/<int:pk>/", views.thing_detail, name="thing_detail"),
    path("things/<int:pk>/flattr/", views.flattr_confirm, name="flattr_confirm"),
    path("things/<int:pk>/edit/", views.thing_edit, name="thing_edit"),
    path("things/<int:pk>/hide/", views.thing_toggle_hidden, name="thing_toggle_hidden"),
    path("things/<int:pk>/delete/", views.thing_delete, name="thing_delete"),
    path("things/<int:pk>/accept/", views.thing_accept, name="thing_accept"),
    path("things/<int:pk>/dismiss/", views.thing_dismiss, name="thing_dismiss"),
    path("things/<int:pk>/button/", views.thing_button, name="thing_button"),
    path("things/<int:pk>/count.json", views.count_json, name="thing_count"),
    path("things/<int:pk>/badge.svg", views.badge_svg, name="thing_badge"),
    path("demo/publisher/", views.demo_publisher, name="demo_publisher"),
    # Supporter pages (ux).
    path("flattrs/", views.my_flattrs, name="my_flattrs"),
    path("flattrs/<int:pk>/undo/", views.flattr_undo, name="flattr_undo"),
    # Subscriptions (notify helper)
    path("subscriptions/", subscription_views.subscription_list, name="subscription_list"),
    path(
        "things/<int:pk>/subscribe/", subscription_views.subscription_new, name="subscription_new"
    ),
    path(
        "subscriptions/<int:pk>/<str:action>/",
        subscription_views.subscription_change,
        name="subscription_change",
    ),
]
