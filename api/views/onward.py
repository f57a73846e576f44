"""Onward shares ("pass it on", docs/payouts.md): ``GET`` and ``PUT
/rest/v2/user/onward`` (scope thing), an extension of Flattr's API. Thin
over ``payouts.onward``: the list is replaced whole by ``onward_set`` (its
one-line refusal is the 400's reason; nothing is saved), and the GET adds
what the latest posted run did with the caller's net (``last_run``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts.models import User
from api import errors, schema
from api.scopes import THING
from api.views.base import ApiView
from payouts.models import CreatorLine, OnwardLine, OnwardShare, RunStatus
from payouts.onward import OnwardRefused, onward_label, onward_list, onward_set


def share_json(share: OnwardShare) -> dict:
    thing = share.target_thing
    if share.target_user is not None:
        label = f"@{share.target_user.username}"
    else:
        assert thing is not None
        label = thing.title or thing.url
    return {
        "target": onward_label(share),
        "type": "user" if share.target_user is not None else "thing",
        "percent": share.percent,
        "user": share.target_user.username if share.target_user is not None else None,
        "thing": share.target_thing_id,
        "label": label,
    }


def last_run_json(user: User) -> dict | None:
    """The latest posted run with a line of ``user``'s: their net, what they
    passed on and received onward, what they kept, and to whom it went
    (shares of 0 cents left out, as in ``payout_report``)."""
    line = (
        CreatorLine.objects.filter(creator=user, run__status=RunStatus.POSTED)
        .select_related("run")
        .order_by("-run__period")
        .first()
    )
    if line is None:
        return None
    to = (
        OnwardLine.objects.filter(run_id=line.run_id, from_user=user, cents__gt=0)
        .order_by("id")
        .values_list("to_user__username", "thing_id", "cents")
    )
    return {
        "period": line.run.label,
        "net": line.net,
        "onward_out": line.onward_out,
        "onward_in": line.onward_in,
        "kept": line.net - line.onward_out,
        "to": [{"to": name, "thing": thing, "cents": cents} for name, thing, cents in to],
    }


def onward_json(user: User, *, last_run: bool) -> dict:
    shares = [share_json(s) for s in onward_list(creator=user)]
    body: dict = {"shares": shares, "total_percent": sum(s["percent"] for s in shares)}
    if last_run:
        body["last_run"] = last_run_json(user)
    return body


def entries_from(data: dict) -> list[tuple[str, object]]:
    """``{"shares": [{"target", "percent"}, ...]}`` as ``onward_set``'s
    pairs; anything else is invalid_parameters with a reason."""
    shares = data.get("shares")
    if not isinstance(shares, list):
        raise errors.ApiError(
            "invalid_parameters",
            _('"shares" must be a list of {"target", "percent"} objects (an empty list clears).'),
        )
    entries: list[tuple[str, object]] = []
    for number, item in enumerate(shares, start=1):
        if not isinstance(item, dict) or "target" not in item or "percent" not in item:
            raise errors.ApiError(
                "invalid_parameters",
                _('Share %(n)d must be an object with "target" and "percent".') % {"n": number},
            )
        target = item["target"]
        if isinstance(target, bool) or not isinstance(target, str | int):
            raise errors.ApiError(
                "invalid_parameters",
                _("Share %(n)d: a target is @username, a thing number or an address.")
                % {"n": number},
            )
        entries.append((str(target), item["percent"]))
    return entries


class MyOnwardView(ApiView):
    scopes = {"GET": THING, "PUT": THING}

    @extend_schema(
        operation_id="user_onward_get",
        summary="Your onward shares and what the last posted run passed on (scope thing)",
        description='An extension of Flattr\'s API (docs/payouts.md, "Onward shares"). '
        "`last_run` is null until a posted monthly run has a line of yours.",
        responses=schema.responses(schema.Onward),
    )
    def get(self, request):
        return Response(onward_json(request.user, last_run=True))

    @extend_schema(
        operation_id="user_onward_put",
        summary="Replace your whole list of onward shares (scope thing)",
        description="Up to 20 shares, each a target (`@username`, a thing id, or an address: "
        "the thing someone owns there, else an unclaimed one, made as auto-submit would) "
        "and a whole percent from 1 to 100, at most 100 in all; oneself and one's own things "
        "are refused. A refused list is `invalid_parameters` (400) with the reason, and "
        "nothing is saved. An empty list clears.",
        request=schema.OnwardPut,
        responses=schema.responses(schema.OnwardShares),
    )
    def put(self, request):
        entries = entries_from(self.data())
        try:
            onward_set(creator=request.user, entries=entries)
        except OnwardRefused as refusal:
            raise errors.ApiError("invalid_parameters", refusal.line) from refusal
        return Response(onward_json(request.user, last_run=False))
