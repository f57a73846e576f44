"""Users and their things."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api import representations as rep
from api import schema, selectors
from api.views.base import ApiView, paginate, user_or_404
from core.db_router import replica_reads


@method_decorator(replica_reads, name="dispatch")
class UserView(ApiView):
    @extend_schema(
        operation_id="users_get", summary="Get a user", responses=schema.responses(schema.User)
    )
    def get(self, request, username: str):
        return Response(rep.user_json(user_or_404(username), self.urls))


class MeView(ApiView):
    login = {"GET"}

    @extend_schema(
        operation_id="user_get",
        summary="The token's user (email with scope email or extendedread, "
        "registered_at with extendedread)",
        responses=schema.responses(schema.User),
    )
    def get(self, request):
        return Response(rep.user_json(request.user, self.urls, scopes=self.token_scopes()))


@method_decorator(replica_reads, name="dispatch")
class UserThingsView(ApiView):
    @schema.listing(
        operation_id="users_things",
        summary="A user's things",
        item=schema.Thing,
    )
    def get(self, request, username: str):
        return self.listing(user_or_404(username))

    def listing(self, user) -> Response:
        page, count = self.page_and_count()
        viewer, full = self.viewer(), self.full()
        things = paginate(selectors.things_of_user(user=user, viewer=viewer), page, count)
        return Response([rep.thing_json(t, self.urls, viewer=viewer, full=full) for t in things])


class MyThingsView(UserThingsView):
    login = {"GET"}

    @schema.listing(
        operation_id="user_things",
        summary="The authenticated user's things (hidden ones too)",
        item=schema.Thing,
    )
    def get(self, request):
        return self.listing(request.user)
