"""OpenAPI description of the API (drf-spectacular): response shapes as
serializers (used for the schema only; views build plain dicts), the error
body, and the OAuth2 security scheme with each operation's scope."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

from api.scopes import SCOPES


class Error(serializers.Serializer):
    error = serializers.CharField(
        help_text="invalid_request, invalid_parameters, unauthorized, insufficient_scope, "
        "invalid_scope, rate_limit_exceeded, forbidden, not_found, flattr_once, flattr_owner, "
        "no_means, owes_balance, thing_unavailable, thing_owner, subscribed, method_not_allowed, "
        "unsupported_media_type"
    )
    error_description = serializers.CharField()
    error_uri = serializers.CharField()
    message = serializers.CharField(help_text="the same code as error (Flattr's other shape)")
    description = serializers.CharField(help_text="the same text as error_description")


class Hello(serializers.Serializer):
    message = serializers.CharField()


class Message(Hello):
    description = serializers.CharField()


class Resource(serializers.Serializer):
    """What every object the API describes starts with."""

    type = serializers.CharField()
    resource = serializers.CharField()
    link = serializers.CharField()


class IdText(serializers.Serializer):
    id = serializers.CharField()
    text = serializers.CharField()


class RateLimit(serializers.Serializer):
    hourly_limit = serializers.IntegerField()
    remaining_hits = serializers.IntegerField()
    current_hits = serializers.IntegerField()
    reset_time_in_seconds = serializers.IntegerField()
    reset_time = serializers.CharField()


class User(Resource):
    """A user; a "mini user" has only type, resource, link and username."""

    username = serializers.CharField()
    url = serializers.CharField(required=False)
    firstname = serializers.CharField(required=False)
    lastname = serializers.CharField(required=False)
    avatar = serializers.CharField(required=False)
    about = serializers.CharField(required=False)
    city = serializers.CharField(required=False)
    country = serializers.CharField(required=False)
    email = serializers.CharField(required=False, help_text="scope email or extendedread")
    registered_at = serializers.IntegerField(required=False, help_text="scope extendedread")


class MiniThing(Resource):
    id = serializers.IntegerField()
    url = serializers.CharField()
    title = serializers.CharField()
    image = serializers.CharField(allow_blank=True)
    flattrs = serializers.IntegerField()
    owner = User(allow_null=True, help_text="null while the thing is unclaimed")


class Thing(MiniThing):
    flattrs_user_count = serializers.IntegerField()
    description = serializers.CharField(allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField())
    language = serializers.CharField(allow_blank=True)
    category = serializers.CharField()
    created_at = serializers.IntegerField(help_text="Unix time")
    hidden = serializers.BooleanField()
    flattred = serializers.BooleanField(required=False, help_text="authenticated callers")
    subscribed = serializers.BooleanField(required=False, help_text="authenticated callers")
    last_flattr_at = serializers.IntegerField(required=False, help_text="the owner only")
    updated_at = serializers.IntegerField(required=False, help_text="the owner only")


class Flattr(serializers.Serializer):
    type = serializers.CharField()
    thing = MiniThing()
    owner = User()
    created_at = serializers.IntegerField()


class LikeSource(serializers.Serializer):
    kind = serializers.CharField(help_text="mastodon, github or feed")
    account = serializers.CharField(
        help_text="the account there (alice@mastodon.example, a GitHub login) or the feed's title"
    )
    address = serializers.CharField(help_text="the server, GitHub's API or the feed's address")
    description = serializers.CharField(help_text='in words: "Starred on GitHub"')


class LikeFlattr(serializers.Serializer):
    type = serializers.CharField(help_text="like")
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="what was liked")
    title = serializers.CharField()
    liked_at = serializers.IntegerField(help_text="Unix time (when first seen if unknown)")
    flattred_at = serializers.IntegerField(help_text="Unix time")
    period = serializers.CharField(help_text="the month of the flattr, YYYY-MM")
    thing = MiniThing(allow_null=True)
    # The JSON key is "source"; on a serializer class it shadows Field.source.
    source = LikeSource()  # type: ignore[assignment]


class FlattrCreated(Message):
    thing = MiniThing()


class ThingCreated(Message):
    id = serializers.IntegerField()
    link = serializers.CharField()


class LookupFound(Hello):
    location = serializers.CharField()


class Search(serializers.Serializer):
    total_items = serializers.IntegerField()
    items = serializers.IntegerField()
    page = serializers.IntegerField()
    things = Thing(many=True)


class Subscription(serializers.Serializer):
    type = serializers.CharField()
    active = serializers.BooleanField()
    created_at = serializers.IntegerField()
    started_at = serializers.IntegerField()
    months = serializers.IntegerField()
    months_remaining = serializers.IntegerField()
    thing = Thing()


class SubscriptionCreated(FlattrCreated):
    pass


class ActivityPart(serializers.Serializer):
    displayName = serializers.CharField()  # noqa: N815 - Activity Streams' name
    url = serializers.CharField()
    objectType = serializers.CharField()  # noqa: N815


class Activity(serializers.Serializer):
    published = serializers.CharField()
    title = serializers.CharField()
    actor = ActivityPart()
    verb = serializers.CharField()
    object = ActivityPart()
    id = serializers.CharField()


class Activities(serializers.Serializer):
    items = Activity(many=True)


class OnwardShare(serializers.Serializer):
    target = serializers.CharField(help_text="@username or the thing's id, as PUT takes it")
    type = serializers.ChoiceField(choices=["user", "thing"])
    percent = serializers.IntegerField(min_value=1, max_value=100)
    user = serializers.CharField(allow_null=True, help_text="the creator named, or null")
    thing = serializers.IntegerField(allow_null=True, help_text="the thing's id, or null")
    # The key is "label"; DRF's Field has a "label" attribute of its own.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="@username or the thing's title"
    )


class OnwardShares(serializers.Serializer):
    shares = OnwardShare(many=True)
    total_percent = serializers.IntegerField()


class OnwardTo(serializers.Serializer):
    to = serializers.CharField(
        allow_null=True, help_text="the user credited (a thing's owner); null while held"
    )
    thing = serializers.IntegerField(allow_null=True, help_text="null for a creator target")
    cents = serializers.IntegerField()


class OnwardRun(serializers.Serializer):
    period = serializers.CharField(help_text="YYYY-MM")
    net = serializers.IntegerField(help_text="cents: gross less the fee")
    onward_out = serializers.IntegerField(help_text="cents passed on of net")
    onward_in = serializers.IntegerField(help_text="cents received onward (no fee)")
    kept = serializers.IntegerField(help_text="cents: net - onward_out")
    to = OnwardTo(many=True)


class Onward(OnwardShares):
    last_run = OnwardRun(
        allow_null=True, help_text="the latest posted run with a line of yours, or null"
    )


# --- request bodies -------------------------------------------------------------


class ThingFields(serializers.Serializer):
    """What a creator may set on a thing, each optional."""

    title = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    category = serializers.CharField(required=False, help_text="see /categories")
    language = serializers.CharField(required=False, help_text="see /languages")
    tags = serializers.CharField(required=False, help_text="comma list (an array is accepted)")
    hidden = serializers.BooleanField(required=False)


class ThingCreate(ThingFields):
    url = serializers.CharField(help_text="http(s) URL of the thing")


class ThingUpdate(ThingFields):
    _method = serializers.CharField(required=False, help_text="patch, with POST")


class FlattrUrl(serializers.Serializer):
    url = serializers.CharField(help_text="a thing's URL or an auto-submit URL")


class SubscriptionCreate(serializers.Serializer):
    month = serializers.ChoiceField(
        choices=[1, 3, 6, 12], required=False, default=3, help_text="months; 3 when left out"
    )


class OnwardTarget(serializers.Serializer):
    target = serializers.CharField(help_text="@username, a thing id or an address")
    percent = serializers.IntegerField(min_value=1, max_value=100)


class OnwardPut(serializers.Serializer):
    shares = OnwardTarget(many=True, help_text="at most 20; an empty list clears")


# --- helpers ---------------------------------------------------------------------

ERRORS = {
    400: "invalid_request or invalid_parameters",
    401: "unauthorized (no, invalid, expired or revoked token); no_means (empty wallet)",
    402: "owes_balance (a refund or dispute left a debt)",
    403: "insufficient_scope, rate_limit_exceeded, forbidden, flattr_once, flattr_owner, "
    "thing_owner, subscribed, auto_submit_refused",
    404: "not_found, thing_unavailable",
    405: "method_not_allowed",
    415: "unsupported_media_type",
}


def responses(ok, status: int = 200, *, extra: dict | None = None) -> dict:
    result: dict = {status: ok}
    result.update(extra or {})
    for code, text in ERRORS.items():
        result.setdefault(code, OpenApiResponse(Error, description=text))
    return result


PAGE = [
    OpenApiParameter("count", int, description="records per page (default 30, max 100)"),
    OpenApiParameter("page", int, description="page, from 1"),
]
FULL = OpenApiParameter("full", str, description="1 or true: full owner objects")


def listing(*, operation_id: str, summary: str, item: type[serializers.Serializer]):
    """The schema of an operation answering one page of ``item``s."""
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        parameters=[*PAGE, FULL],
        responses=responses(item(many=True)),
    )


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": "OAuth2 access tokens, or personal access tokens (flattr_pat_...) "
            "sent as `Authorization: Bearer TOKEN`.",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "/oauth/authorize",
                    "tokenUrl": "/oauth/token",
                    "refreshUrl": "/oauth/token",
                    "scopes": {k: str(v) for k, v in SCOPES.items()},
                }
            },
        }

    def get_security_requirement(self, auto_schema):
        view = auto_schema.view
        method = auto_schema.method.upper()
        scope = getattr(view, "scopes", {}).get(method)
        if scope:
            return {self.name: [scope]}
        if method in getattr(view, "login", set()):
            return {self.name: []}
        return [{self.name: []}, {}]
