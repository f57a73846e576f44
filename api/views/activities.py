"""Activities as Activity Streams 1.0 JSON."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from api import representations as rep
from api import schema, selectors
from api.errors import ApiError
from api.views.base import ApiView, user_or_404

TYPE = OpenApiParameter("type", str, enum=["outgoing", "incoming"], description="default outgoing")


class UserActivitiesView(ApiView):
    @extend_schema(
        operation_id="users_activities",
        summary="A user's activities (Activity Streams JSON)",
        parameters=[TYPE],
        responses=schema.responses(schema.Activities),
    )
    def get(self, request, username: str):
        return self.stream(user_or_404(username))

    def stream(self, user) -> Response:
        kind = self.request.query_params.get("type") or "outgoing"
        if kind not in ("outgoing", "incoming"):
            raise ApiError("invalid_parameters", _("type is incoming or outgoing."))
        host = self.request.get_host().split(":")[0]
        items = selectors.activities_of_user(
            user=user, incoming=kind == "incoming", viewer_id=self.request.user.pk
        )
        return Response(
            {
                "items": [
                    rep.activity_json(
                        actor=actor, verb=verb, thing=thing, when=when, urls=self.urls, host=host
                    )
                    for actor, verb, thing, when in items
                ]
            }
        )


class MyActivitiesView(UserActivitiesView):
    login = {"GET"}

    @extend_schema(
        operation_id="user_activities",
        summary="The authenticated user's activities (Activity Streams JSON)",
        parameters=[TYPE],
        responses=schema.responses(schema.Activities),
    )
    def get(self, request):
        return self.stream(request.user)
