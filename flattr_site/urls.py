import os

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView

from flattr_site import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("", include("accounts.urls")),
    path("", include("ledger.urls")),
    path("", include("payments.urls")),
    path("", include("payments.withdrawals.urls")),
    path("", include("buttons.urls")),
    path("", include("payouts.urls")),
    path("", include("yourdata.urls")),
]

admin.site.site_header = "Open Flattr administration"
admin.site.site_title = "Open Flattr admin"

if os.environ.get("FLATTR_BENCH") == "1":
    # The ceiling for bench/http.py: a bare Django view through the same
    # middleware stack.
    urlpatterns.append(path("bench/ok", lambda request: HttpResponse("ok"), name="bench_ok"))
