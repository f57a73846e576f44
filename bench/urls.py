"""The site's URLs plus ``/bench/ok``: a bare Django view through the same
middleware stack, the ceiling bench/http.py measures the button against."""

from django.http import HttpResponse
from django.urls import path

from flattr_site.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    *site_urlpatterns,
    path("bench/ok", lambda request: HttpResponse("ok"), name="bench_ok"),
]
