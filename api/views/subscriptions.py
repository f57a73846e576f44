"""Subscriptions (scope flattr): the services of buttons.subscriptions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api import representations as rep
from api import schema, selectors
from api.scopes import FLATTR
from api.views.base import ApiView, parse_int, thing_or_404
from api.views.flattrs import refused
from buttons import selectors as button_selectors
from buttons import subscriptions as subscription_services
from buttons.models import SubscriptionStatus
from buttons.services import FlattrRefused

# A subscription asked for without a length (Flattr's API took none: what
# flattrclient's subscribe() sends is an empty body) lasts as long as the
# site's subscribe form offers by default.
DEFAULT_MONTHS = 3


class MySubscriptionsView(ApiView):
    scopes = {"GET": FLATTR}

    @extend_schema(
        operation_id="user_subscriptions",
        summary="Your subscriptions (scope flattr)",
        responses=schema.responses(schema.Subscription(many=True)),
    )
    def get(self, request):
        viewer = request.user
        subscriptions = list(button_selectors.subscriptions_for(user=viewer)[:500])
        things = {
            t.pk: t
            for t in selectors.things_get_many(
                ids=[s.thing_id for s in subscriptions], viewer=viewer
            )
        }
        for subscription in subscriptions:
            subscription.thing = things.get(subscription.thing_id, subscription.thing)
        return Response([rep.subscription_json(s, self.urls, viewer=viewer) for s in subscriptions])


class ThingSubscriptionView(ApiView):
    scopes = {"POST": FLATTR, "PUT": FLATTR, "DELETE": FLATTR}

    @extend_schema(
        operation_id="things_subscribe",
        summary="Subscribe to a thing for 1, 3, 6 or 12 months (scope flattr)",
        description="Flattrs the thing this month at once (unless already flattred); "
        "that month is the first of the subscription. Without `month` (an empty body, as "
        "Flattr's clients send) it lasts 3 months.",
        request=schema.SubscriptionCreate,
        responses=schema.responses(schema.SubscriptionCreated),
    )
    def post(self, request, pk: int):
        thing = thing_or_404(pk)
        data = self.data()
        months = parse_int(
            data.get("month", data.get("months")), name="month", default=DEFAULT_MONTHS, low=0
        )
        try:
            subscription_services.subscription_create(
                supporter=request.user, thing=thing, months=months
            )
        except FlattrRefused as refusal:
            raise refused(refusal)
        thing = selectors.thing_get(pk=pk) or thing
        return Response(
            {
                "message": "ok",
                "description": "Successfully subscribed to Thing",
                "thing": rep.mini_thing(thing, self.urls),
            }
        )

    @extend_schema(
        operation_id="things_subscription_toggle",
        summary="Pause or resume your subscription (scope flattr)",
        request=None,
        responses=schema.responses(schema.Message),
    )
    def put(self, request, pk: int):
        thing = thing_or_404(pk)
        try:
            subscription = subscription_services.subscription_toggle_pause(
                supporter=request.user, thing=thing
            )
        except FlattrRefused as refusal:
            raise refused(refusal)
        if subscription.status == SubscriptionStatus.PAUSED:
            return Response({"message": "paused", "description": "Subscription paused"})
        return Response({"message": "started", "description": "Subscription started"})

    @extend_schema(
        operation_id="things_unsubscribe",
        summary="End your subscription (scope flattr)",
        request=None,
        responses=schema.responses(None, 204),
    )
    def delete(self, request, pk: int):
        thing = thing_or_404(pk)
        try:
            subscription_services.subscription_cancel(supporter=request.user, thing=thing)
        except FlattrRefused as refusal:
            raise refused(refusal)
        return Response(status=204)
