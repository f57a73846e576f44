from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog

from flattr_site import views
from ops.metrics import metrics_view

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("accounts.urls")),
    path("", include("payments.urls")),
    path("", include("payments.withdrawals.urls")),
    path("", include("buttons.urls")),
    path("", include("payouts.urls")),
    path("", include("funding.urls")),
    path("", include("yourdata.urls")),
    # Flattr REST API v2, OAuth2 and the developer pages (replaces /api/schema/).
    path("", include("api.urls")),
    # Classic Flattr doors, funding standards and claims (issue 12).
    path("", include("buttons.classic_urls")),
    path("", include("claims.urls")),
    path("", include("notifications.urls")),
    # Connected accounts: likes elsewhere become flattrs (issue 27).
    path("", include("likes.urls")),
]

admin.site.site_header = _("Open Flattr administration")
admin.site.site_title = _("Open Flattr admin")
