"""Flattring through the API, and the lists of a user's flattrs. The rules
are buttons.services.flattr_create's, the same as the web button's."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api import input as api_input
from api import representations as rep
from api import schema, selectors
from api.errors import ApiError
from api.scopes import FLATTR
from api.views.base import ApiView, paginate, user_or_404
from buttons import counters
from buttons import services as button_services
from buttons.forms import AutoSubmitForm
from buttons.models import FlattrSource
from buttons.services import current_period

# Flattr's API answered these statuses; our services' own statuses serve
# the web button.
API_STATUS = {"flattr_once": 403, "flattr_owner": 403, "no_means": 401}


def refused(refusal: button_services.FlattrRefused) -> ApiError:
    return ApiError(refusal.code, refusal.message, API_STATUS.get(refusal.code, refusal.status))


def flattred_response(view: ApiView, thing) -> Response:
    # The thing as read to flattr it (its owner joined) and its count from
    # the counters, which already hold this flattr: no aggregate, no
    # fragment of the public thing to build for a thing read for the first
    # time.
    _month, thing.flattrs_n = counters.counts(thing_id=thing.pk, period=current_period())
    return Response(
        {
            "message": "ok",
            "description": "Thing was successfully flattred",
            "thing": rep.mini_thing(thing, view.urls),
        }
    )


class ThingFlattrView(ApiView):
    scopes = {"POST": FLATTR}

    @extend_schema(
        operation_id="things_flattr",
        summary="Flattr a thing (scope flattr)",
        request=None,
        responses=schema.responses(schema.FlattrCreated),
    )
    def post(self, request, pk: int):
        thing = selectors.thing_to_flattr(pk=pk)
        if thing is None:
            raise ApiError("not_found", _("No thing with this id."))
        try:
            button_services.flattr_create(
                supporter=request.user, thing=thing, source=FlattrSource.API
            )
        except button_services.FlattrRefused as refusal:
            raise refused(refusal)
        return flattred_response(self, thing)


class FlattrUrlView(ApiView):
    scopes = {"POST": FLATTR}

    @extend_schema(
        operation_id="flattr_url",
        summary="Flattr a URL: a thing's URL, or an auto-submit URL (scope flattr)",
        description="An auto-submit URL creates its thing on an accepted flattr, under the "
        "rules of the web auto-submit; a refused flattr creates nothing.",
        request=schema.FlattrUrl,
        responses=schema.responses(schema.FlattrCreated),
    )
    def post(self, request):
        url = api_input.url_clean(self.data().get("url"))
        params = api_input.auto_submit_params(url)
        if params is None:
            return self._flattr_thing_url(url)
        form = AutoSubmitForm(params)
        if not form.is_valid():
            messages = [m for errs in form.errors.values() for m in errs]
            raise ApiError("invalid_parameters", " ".join(messages))
        owner, thing_url = form.cleaned_data["owner_user"], form.cleaned_data["url"]
        try:
            thing = button_services.flattr_create_auto(
                supporter=request.user,
                owner=owner,
                url=thing_url,
                source=FlattrSource.API,
                **form.thing_fields(),
            ).thing
        except ValidationError as exc:
            raise api_input.validation_error(exc)
        except button_services.FlattrRefused as refusal:
            raise refused(refusal)
        return flattred_response(self, thing)

    def _flattr_thing_url(self, url: str) -> Response:
        pk = api_input.thing_id_from_link(url, self.request.get_host())
        thing = selectors.thing_get(pk=pk) if pk is not None else selectors.thing_by_url(url=url)
        if thing is None:
            raise ApiError("not_found", _("No thing is registered for this URL."))
        try:
            button_services.flattr_create(
                supporter=self.request.user, thing=thing, source=FlattrSource.API
            )
        except button_services.FlattrRefused as refusal:
            raise refused(refusal)
        return flattred_response(self, thing)


def flattr_page(view: ApiView, flattrs) -> Response:
    """The page of ``flattrs`` (a queryset) the request asks for."""
    page, count = view.page_and_count()
    full = view.full()
    flattrs = selectors.with_thing_counts(paginate(flattrs, page, count))
    return Response([rep.flattr_json(f, view.urls, full=full) for f in flattrs])


class UserFlattrsView(ApiView):
    @schema.listing(
        operation_id="users_flattrs",
        summary="A user's flattrs",
        item=schema.Flattr,
    )
    def get(self, request, username: str):
        return self.listing(user_or_404(username))

    def listing(self, user) -> Response:
        return flattr_page(
            self, selectors.flattrs_of_user(user=user, viewer_id=self.request.user.pk)
        )


class MyFlattrsView(UserFlattrsView):
    login = {"GET"}

    @schema.listing(
        operation_id="user_flattrs",
        summary="The authenticated user's flattrs",
        item=schema.Flattr,
    )
    def get(self, request):
        return self.listing(request.user)
