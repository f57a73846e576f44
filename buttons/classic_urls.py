"""URLs of the classic Flattr doors (see buttons/classic.py), at the root."""

from django.urls import path, re_path

from buttons.views import classic
from buttons.views import funding as classic_funding

urlpatterns = [
    re_path(
        r"^js/(?P<version>0\.[56](?:\.[0-9]+)?)/load\.js$", classic.load_js, name="classic_load_js"
    ),
    path("button/view/", classic.button_view, name="classic_button_view"),
    path("button/popout/", classic.button_popout, name="classic_button_popout"),
    path("button/flattr-badge-large.png", classic.badge_png, name="classic_badge"),
    path("flattr-badge-large.png", classic.badge_png),
    path("thing/<int:pk>", classic.thing_redirect, name="classic_thing"),
    path("thing/<int:pk>/", classic.thing_redirect),
    path("thing/<int:pk>/<slug:slug>", classic.thing_redirect),
    path("profile/<str:username>", classic.profile_redirect, name="classic_profile"),
    path("profile/<str:username>/", classic.profile_redirect),
    path("oembed", classic_funding.oembed, name="oembed"),
    path("u/<str:username>/funding.json", classic_funding.funding_json, name="funding_json"),
    path(".well-known/webfinger", classic_funding.webfinger, name="webfinger"),
]
