"""Reads for the pages of onward shares ("pass it on", docs/payouts.md):
the settings page's preview, the public "passes on" text, what a creator
received onward in the latest posted run and each month's amounts."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from buttons.models import Thing
from payouts.models import CreatorLine, OnwardLine, OnwardShare, PayoutRun, RunStatus
from payouts.onward import onward_label, onward_list
from payouts.rules import onward_split


def _target(*, user: User | None, thing: Thing | None) -> dict[str, str]:
    """A target's name and page, for a link."""
    if user is not None:
        return {"name": user.public_name, "url": user.get_absolute_url()}
    assert thing is not None
    return {"name": thing.title, "url": thing.get_absolute_url()}


def _latest_posted_run() -> PayoutRun | None:
    return PayoutRun.objects.filter(status=RunStatus.POSTED).order_by("-period").first()


def onward_preview(*, creator: User) -> dict[str, Any]:
    """The creator's list applied to their net of the latest posted month
    (``rules.onward_split``): ``period`` (None before any posted run),
    ``net``, ``kept`` and each share's ``cents`` with its target."""
    shares = onward_list(creator=creator)
    run = _latest_posted_run()
    net = 0
    if run is not None:
        line = CreatorLine.objects.filter(run=run, creator=creator).first()
        net = line.net if line is not None else 0
    cents, kept = onward_split(net=net, percents=[share.percent for share in shares])
    return {
        "period": run.period if run is not None else None,
        "net": net,
        "kept": kept,
        "shares": [
            {
                **_target(user=share.target_user, thing=share.target_thing),
                "percent": share.percent,
                "cents": amount,
            }
            for share, amount in zip(shares, cents, strict=True)
        ],
    }


def onward_rows(*, creator: User) -> list[tuple[str, int]]:
    """The saved list as the form writes it: (target, percent) pairs."""
    return [(onward_label(share), share.percent) for share in onward_list(creator=creator)]


def onward_public(*, creator: User) -> list[dict[str, Any]]:
    """What a creator passes on, as their profile and things say it: the
    shares whose target would be paid (an active creator, a visible thing)."""
    shown = []
    for share in OnwardShare.objects.filter(creator=creator).select_related(
        "target_user", "target_thing"
    ):
        if share.target_user is not None and not share.target_user.is_active:
            continue
        thing = share.target_thing
        if thing is not None and (thing.hidden or thing.removed):
            continue
        shown.append({**_target(user=share.target_user, thing=thing), "percent": share.percent})
    return shown


def onward_received(*, user: User) -> dict[str, Any] | None:
    """What ``user`` received onward in the latest posted run: ``period``
    and the ``lines`` (who passed it on, the thing if one was named, the
    cents); None when nothing."""
    run = _latest_posted_run()
    if run is None:
        return None
    lines = list(
        OnwardLine.objects.filter(run=run, to_user=user, cents__gt=0)
        .select_related("from_user")
        .order_by("-cents", "from_user__username")
    )
    if not lines:
        return None
    things = Thing.objects.in_bulk([line.thing_id for line in lines if line.thing_id])
    return {
        "period": run.period,
        "total": sum(line.cents for line in lines),
        "lines": [
            {
                **_target(user=line.from_user, thing=None),
                "thing": things.get(line.thing_id) if line.thing_id else None,
                "percent": line.percent,
                "cents": line.cents,
            }
            for line in lines
        ],
    }


def onward_months(*, user: User, limit: int = 12) -> list[dict[str, Any]]:
    """The posted months in which ``user`` passed on or received onward:
    ``period``, ``net``, ``passed_on``, ``received``, latest first."""
    lines = (
        CreatorLine.objects.filter(creator=user, run__status=RunStatus.POSTED)
        .exclude(onward_out=0, onward_in=0)
        .select_related("run")
        .order_by("-run__period")[:limit]
    )
    return [
        {
            "period": line.run.period,
            "net": line.net,
            "passed_on": line.onward_out,
            "received": line.onward_in,
        }
        for line in lines
    ]
