"""Things: get (one or many), lookup, search, create, update, delete, and
the flattrs of a thing."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from api import input as api_input
from api import representations as rep
from api import schema, selectors
from api.authentication import bearer, principal_with_marks
from api.errors import ApiError
from api.languages import language_normalise
from api.ratelimit import rate_hit
from api.scopes import THING
from api.views.base import ApiView, paginate, thing_or_404
from api.views.flattrs import flattr_page
from buttons import services as button_services
from buttons.forms import AutoSubmitForm
from buttons.models import Category
from core.db_router import replica_authenticated, replica_reads
from core.http import client_ip

MAX_IDS = 100


def own_thing(view: ApiView, pk: int):
    thing = thing_or_404(pk, view.viewer())
    if thing.owner_id != view.request.user.pk:
        raise ApiError("forbidden", _("This is not your thing."))
    return thing


def parse_ids(raw: str) -> list[int]:
    parts = [p for p in raw.split(",") if p.strip()]
    if not parts:
        raise ApiError("invalid_parameters", _("Give one or more thing ids."))
    if len(parts) > MAX_IDS:
        raise ApiError("invalid_parameters", _("At most %(n)s ids at once.") % {"n": MAX_IDS})
    try:
        ids = [int(p) for p in parts]
    except ValueError:
        raise ApiError("not_found", _("No thing with this id."))
    if any(i < 1 or i > 2**63 - 1 for i in ids):
        raise ApiError("not_found", _("No thing with this id."))
    return ids


@method_decorator(replica_reads, name="dispatch")
class ThingView(ApiView):
    """GET /things/:id or /things/:id,:id,...; PATCH (or POST with
    _method=patch) and DELETE need the thing scope and the thing's owner."""

    scopes = {"PATCH": THING, "DELETE": THING}

    def dispatch(self, request, *args, **kwargs):
        # The hottest reads (a button or a script asking for one thing, with
        # a bearer token or without) skip DRF's request and response
        # machinery and answer the same bytes; everything else (errors,
        # parameters, the owner, several ids) takes the general path.
        if (
            request.method == "GET"
            and not request.GET
            and "stream+json" not in request.META.get("HTTP_ACCEPT", "")
            and kwargs.get("ids", "").isdigit()
            and len(kwargs["ids"]) < 19  # under 2**63
        ):
            pk = int(kwargs["ids"])
            if "HTTP_AUTHORIZATION" in request.META:
                response = self.token_get(request, pk)
            else:
                response = self.public_get(request, pk)
            if response is not None:
                return response
        return super().dispatch(request, *args, **kwargs)

    def public_get(self, request, pk: int) -> HttpResponse | None:
        thing = selectors.thing_public(pk=pk)
        if thing is None:
            return None
        self.rate = rate_hit(ident=f"ip:{client_ip(request)}")
        if self.rate is not None and self.rate.exceeded:
            return self.rate_refusal(request)
        return self.plain_response(request, rep.thing_json(thing, rep.Urls(request)))

    def token_get(self, request, pk: int) -> HttpResponse | None:
        """GET /things/:id with a bearer token: the cached principal and
        the caller's cached marks (one Redis round trip), the hourly limit,
        the cached public thing; no query when all are cached. A refused
        token gets the general path's 401 here; a missing thing or the
        owner go the general path (None), before the hit is counted."""
        raw = bearer(request)
        if raw is None:
            return None
        try:
            user, grant, marks = principal_with_marks(raw, thing_id=pk)
        except ApiError as refusal:  # answered here: the token is not looked up twice
            return self.refusal_response(request, refusal)
        thing = selectors.thing_public(pk=pk)
        if thing is None or thing.owner_id == user.pk:
            return None
        request.user = user  # as DRF's Request sets it on the request it wraps
        self.rate = rate_hit(ident=grant.ident)
        if self.rate is not None and self.rate.exceeded:
            return self.rate_refusal(request)
        replica_authenticated(request)
        thing.flattred_now, thing.subscribed_now = selectors.viewer_marks(
            thing_id=thing.pk, viewer=user, cached=marks
        )
        return self.plain_response(request, rep.thing_json(thing, rep.Urls(request), viewer=user))

    @extend_schema(
        operation_id="things_get",
        summary="Get a thing, or several: /things/1,2,3 (at most 100 ids)",
        parameters=[
            OpenApiParameter("ids", str, OpenApiParameter.PATH, description="id or id,id,..."),
            schema.FULL,
        ],
        responses=schema.responses(schema.Thing),
        description="A single id answers a thing; a comma list answers an array of the "
        "things found (404 not_found when none is).",
    )
    def get(self, request, ids: str):
        id_list = parse_ids(ids)
        viewer, full = self.viewer(), self.full()
        if "," not in ids:
            # Counts and fields come from the cached public fragment (no
            # aggregate over the thing's flattrs); a signed-in caller adds
            # one query for its own marks, the owner takes the full path.
            thing = selectors.thing_public(pk=id_list[0])
            if thing is None:
                raise ApiError("not_found", _("No thing with this id."))
            if viewer is None:
                return Response(rep.thing_json(thing, self.urls, full=full))
            if thing.owner_id != viewer.pk:
                thing.flattred_now, thing.subscribed_now = selectors.viewer_marks(
                    thing_id=thing.pk, viewer=viewer
                )
                return Response(rep.thing_json(thing, self.urls, viewer=viewer, full=full))
            thing = thing_or_404(id_list[0], viewer)
            return Response(rep.thing_json(thing, self.urls, viewer=viewer, full=full))
        things = selectors.things_get_many(ids=id_list, viewer=viewer)
        if not things:
            raise ApiError("not_found", _("None of these things was found."))
        return Response([rep.thing_json(t, self.urls, viewer=viewer, full=full) for t in things])

    @extend_schema(
        operation_id="things_update",
        summary="Update a thing (scope thing, owner only)",
        parameters=[OpenApiParameter("ids", str, OpenApiParameter.PATH, description="the id")],
        request=schema.ThingUpdate,
        responses=schema.responses(schema.Message),
    )
    def patch(self, request, ids: str):
        thing = own_thing(self, parse_ids(ids)[0])
        fields = api_input.thing_fields(self.data(), creating=False)
        if fields:
            try:
                button_services.thing_update(thing=thing, **fields)
            except ValidationError as exc:
                raise api_input.validation_error(exc)
        return Response({"message": "ok", "description": "Thing was updated correctly"})

    @extend_schema(
        operation_id="things_delete",
        summary="Delete a thing (scope thing, owner only); a flattred thing is hidden",
        parameters=[OpenApiParameter("ids", str, OpenApiParameter.PATH, description="the id")],
        responses=schema.responses(None, 204),
    )
    def delete(self, request, ids: str):
        thing = own_thing(self, parse_ids(ids)[0])
        button_services.thing_remove(thing=thing)
        return Response(status=204)


class ThingsView(ApiView):
    """POST /things creates a thing (scope thing)."""

    scopes = {"POST": THING}

    @extend_schema(
        operation_id="things_create",
        summary="Create a thing (scope thing)",
        request=schema.ThingCreate,
        responses=schema.responses(schema.ThingCreated, 201),
    )
    def post(self, request):
        data = self.data()
        url = api_input.url_clean(data.get("url"))
        fields = api_input.thing_fields(data, creating=True)
        fields.setdefault("title", url)
        try:
            thing = button_services.thing_create(owner=request.user, url=url, **fields)
        except ValidationError as exc:
            raise api_input.validation_error(exc)
        resource = self.urls.thing_resource(thing.pk)
        return Response(
            {
                "id": thing.pk,
                "link": resource,
                "message": "ok",
                "description": "Thing was created successfully",
            },
            status=201,
            headers={"Location": resource},
        )


@method_decorator(replica_reads, name="dispatch")
class LookupView(ApiView):
    @extend_schema(
        operation_id="things_lookup",
        summary="Find the thing of a URL (a thing URL or an auto-submit URL)",
        parameters=[OpenApiParameter("url", str, required=True)],
        responses=schema.responses(
            schema.LookupFound,
            302,
            extra={404: OpenApiResponse(schema.Error, description="no thing for this URL")},
        ),
    )
    def get(self, request):
        url = api_input.url_clean(request.query_params.get("url"))
        thing = self._find(url)
        if thing is None:
            # Flattr's body ({"message": "not_found", "description"}) and the
            # error keys every client reads (flattrclient: error, error_description).
            raise ApiError("not_found", _("No thing was found"))
        location = self.urls.thing_resource(thing.pk)
        response = Response({"message": "found", "location": location}, status=302)
        response["Location"] = location
        return response

    def _find(self, url: str):
        params = api_input.auto_submit_params(url)
        if params is not None:
            form = AutoSubmitForm(params)
            if not form.is_valid():
                return None
            return selectors.thing_by_url(
                url=form.cleaned_data["url"],
                owner=form.cleaned_data["owner_user"],
                any_owner=False,
            )
        pk = api_input.thing_id_from_link(url, request_host(self.request))
        if pk is not None:
            return selectors.thing_get(pk=pk)
        return selectors.thing_by_url(url=url)


def request_host(request) -> str:
    return request.get_host()


@method_decorator(replica_reads, name="dispatch")
class SearchView(ApiView):
    @extend_schema(
        operation_id="things_search",
        summary="Search things",
        parameters=[
            OpenApiParameter("query", str, description="free text"),
            OpenApiParameter("url", str),
            OpenApiParameter("tags", str, description="| OR, & AND, ! NOT"),
            OpenApiParameter("language", str, description="comma list"),
            OpenApiParameter("category", str, description="comma list"),
            OpenApiParameter("user", str, description="username"),
            OpenApiParameter(
                "sort",
                str,
                enum=list(selectors.SORTS),
                description="default relevance",
            ),
            *schema.PAGE,
            schema.FULL,
        ],
        responses=schema.responses(schema.Search),
    )
    def get(self, request):
        params = request.query_params
        page, count = self.page_and_count()
        sort = params.get("sort") or "relevance"
        if sort not in selectors.SORTS:
            raise ApiError("invalid_parameters", _("Unknown sort."))
        categories = [c.strip() for c in params.get("category", "").split(",") if c.strip()]
        if any(c not in Category.values for c in categories):
            raise ApiError("invalid_parameters", _("Unknown category. See /rest/v2/categories."))
        languages = []
        for raw in [s for s in params.get("language", "").split(",") if s.strip()]:
            language = language_normalise(raw)
            if not language:
                raise ApiError("invalid_parameters", _("Unknown language. See /rest/v2/languages."))
            languages.append(language)
        viewer, full = self.viewer(), self.full()
        qs = selectors.things_search(
            query=params.get("query", "")[:200],
            url=params.get("url", "")[:1000],
            tags=params.get("tags", "")[:300],
            languages=languages,
            categories=categories,
            username=params.get("user", "")[:40],
            sort=sort,
            viewer=viewer,
        )
        total = qs.count()
        things = paginate(qs, page, count)
        return Response(
            {
                "total_items": total,
                "items": len(things),
                "page": page,
                "things": [rep.thing_json(t, self.urls, viewer=viewer, full=full) for t in things],
            }
        )


@method_decorator(replica_reads, name="dispatch")
class ThingFlattrsView(ApiView):
    @schema.listing(
        operation_id="things_flattrs",
        summary="The flattrs of a thing",
        item=schema.Flattr,
    )
    def get(self, request, pk: int):
        thing = thing_or_404(pk)
        return flattr_page(self, selectors.flattrs_of_thing(thing=thing, viewer_id=request.user.pk))
