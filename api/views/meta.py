"""The small resources: the root probe, categories, languages, rate_limit."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api import schema
from api.languages import LANGUAGES
from api.ratelimit import rate_hit
from api.views.base import ApiView
from buttons.models import Category


class RootView(ApiView):
    @extend_schema(
        operation_id="root", summary="Probe the API", responses=schema.responses(schema.Hello)
    )
    def get(self, request):
        return Response({"message": "hello_world"})


class CategoriesView(ApiView):
    @extend_schema(
        operation_id="categories_list",
        summary="List categories",
        responses=schema.responses(schema.IdText(many=True)),
    )
    def get(self, request):
        return Response([{"id": value, "text": str(label)} for value, label in Category.choices])


class LanguagesView(ApiView):
    @extend_schema(
        operation_id="languages_list",
        summary="List languages",
        responses=schema.responses(schema.IdText(many=True)),
    )
    def get(self, request):
        return Response([{"id": code, "text": str(label)} for code, label in LANGUAGES])


class RateLimitView(ApiView):
    rate_limited = False

    @extend_schema(
        operation_id="rate_limit",
        summary="Your current rate limit (not itself rate limited)",
        responses=schema.responses(schema.RateLimit),
    )
    def get(self, request):
        ident = request.auth.ident if request.auth else None
        from core.http import client_ip

        state = rate_hit(ident=ident or f"ip:{client_ip(request)}", count=False)
        if state is None:
            from django.conf import settings

            limit = settings.FLATTR_API_RATE_LIMIT
            return Response(
                {
                    "hourly_limit": limit,
                    "remaining_hits": limit,
                    "current_hits": 0,
                    "reset_time_in_seconds": 0,
                    "reset_time": "",
                }
            )
        reset = dt.datetime.fromtimestamp(state.reset, tz=dt.UTC)
        return Response(
            {
                "hourly_limit": state.limit,
                "remaining_hits": state.remaining,
                "current_hits": state.current,
                "reset_time_in_seconds": state.reset,
                "reset_time": reset.strftime("%a, %d %b %Y %H:%M:%S +0000 GMT"),
            }
        )
