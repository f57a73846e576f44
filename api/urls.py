"""Routes of the API app: /rest/v2 (Flattr's REST API v2), /oauth (OAuth2),
and the developer pages."""

from django.urls import include, path, re_path, resolve
from django.urls.exceptions import Resolver404
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularJSONAPIView

from api import oauth, web
from api.errors import not_found_view
from api.views import activities, flattrs, likes, meta, onward, subscriptions, things, users


class OpenApiView(SpectacularJSONAPIView):
    authentication_classes: list = []
    permission_classes: list = []
    urlconf = "api.urls"


@csrf_exempt
def tolerant(request, rest: str, suffix: str = ""):
    """``/rest/v2/x/`` and ``/rest/v2/x.json`` are ``/rest/v2/x``: old clients
    add either. Served in place (no redirect: it would turn POST into GET)."""
    try:
        match = resolve(f"/rest/v2/{rest}".rstrip("/"))
    except Resolver404:
        return not_found_view(request)
    if match.func is tolerant:
        return not_found_view(request)
    return match.func(request, *match.args, **match.kwargs)


# Under /rest/v2/, relative: one prefix check keeps the rest of the site's
# routes off the API's path and the API's off the site's.
rest_inner = [
    path("", tolerant, {"rest": ""}),
    path("openapi.json", OpenApiView.as_view(), name="api_openapi"),
    re_path(r"^(?P<rest>.*?)(?P<suffix>\.json|\.as)/?$", tolerant),
    path("categories", meta.CategoriesView.as_view()),
    path("languages", meta.LanguagesView.as_view()),
    path("rate_limit", meta.RateLimitView.as_view()),
    path("user", users.MeView.as_view()),
    path("user/things", users.MyThingsView.as_view()),
    path("user/flattrs", flattrs.MyFlattrsView.as_view()),
    path("user/likes", likes.MyLikesView.as_view()),
    path("user/subscriptions", subscriptions.MySubscriptionsView.as_view()),
    path("user/activities", activities.MyActivitiesView.as_view()),
    path("user/onward", onward.MyOnwardView.as_view()),
    path("users/<str:username>", users.UserView.as_view()),
    path("users/<str:username>/things", users.UserThingsView.as_view()),
    path("users/<str:username>/flattrs", flattrs.UserFlattrsView.as_view()),
    path("users/<str:username>/activities", activities.UserActivitiesView.as_view()),
    path("things", things.ThingsView.as_view()),
    path("things/lookup", things.LookupView.as_view()),
    path("things/search", things.SearchView.as_view()),
    path("things/<int:pk>/flattr", flattrs.ThingFlattrView.as_view()),
    path("things/<int:pk>/flattrs", things.ThingFlattrsView.as_view()),
    path("things/<int:pk>/subscriptions", subscriptions.ThingSubscriptionView.as_view()),
    re_path(r"^things/(?P<ids>[0-9,]+)$", things.ThingView.as_view(), name="api_thing"),
    path("flattr", flattrs.FlattrUrlView.as_view()),
    re_path(r"^(?P<rest>.*?)/$", tolerant),
    re_path(r"^[\s\S]*$", not_found_view),
]

rest_patterns = [
    path("rest/v2", meta.RootView.as_view(), name="api_root"),
    path("rest/v2.json", tolerant, {"rest": ""}),
    path("rest/v2/", include(rest_inner)),
]

oauth_patterns = [
    re_path(r"^oauth/authorize/?$", oauth.AuthorizationView.as_view(), name="oauth_authorize"),
    re_path(r"^oauth/token/?$", oauth.TokenView.as_view(), name="oauth_token"),
    re_path(r"^oauth/revoke(?:_token)?/?$", oauth.RevokeTokenView.as_view(), name="oauth_revoke"),
]

web_patterns = [
    path("developers/", web.developers, name="developers"),
    path("developers/api/", web.api_reference, name="api_reference"),
    path("developers/api/redoc/", web.api_reference_redoc, name="api_reference_redoc"),
    path("settings/apps/", web.developer_apps, name="developer_apps"),
    path("settings/apps/<int:pk>/delete/", web.developer_app_delete, name="developer_app_delete"),
    path("settings/authorised-apps/", web.authorised_apps, name="authorised_apps"),
    path(
        "settings/authorised-apps/<int:pk>/revoke/",
        web.authorised_app_revoke,
        name="authorised_app_revoke",
    ),
    path("settings/tokens/", web.personal_tokens, name="personal_tokens"),
    path(
        "settings/tokens/<int:pk>/revoke/", web.personal_token_revoke, name="personal_token_revoke"
    ),
]

urlpatterns = [*rest_patterns, *oauth_patterns, *web_patterns]
