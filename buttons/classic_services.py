"""Writes the claims app asks of the buttons: giving unclaimed things to the
creator who proved they are theirs, and recording verified sites."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q

from buttons.models import Thing, VerifiedSite

if TYPE_CHECKING:
    from accounts.models import User


def _site_filter(*, host: str, path_prefix: str) -> Q:
    """Thing URLs on ``host`` (either scheme) under ``path_prefix``."""
    q = Q()
    for scheme in ("http", "https"):
        root = f"{scheme}://{host}"
        if path_prefix:
            q |= Q(url__istartswith=root + path_prefix)
        else:
            q |= (
                Q(url__iexact=root)
                | Q(url__istartswith=root + "/")
                | Q(url__istartswith=root + "?")
            )
    return q


def unclaimed_things_assign(
    *,
    owner: User,
    urls: list[str] | None = None,
    host: str = "",
    path_prefix: str = "",
) -> int:
    """Give every unclaimed thing at ``urls`` (or under ``host`` and
    ``path_prefix``) to ``owner``; returns how many. A URL the owner already
    has a thing for stays unclaimed (one thing per owner and URL)."""
    if urls is not None:
        if not urls:
            return 0
        scope = Q(url__in=urls[:5000])
    else:
        scope = _site_filter(host=host, path_prefix=path_prefix)
    with transaction.atomic():
        things = (
            Thing.objects.filter(scope, owner__isnull=True)
            .exclude(url__in=Thing.objects.filter(owner=owner).values("url"))
            .exclude(owner=owner)
        )
        return things.update(owner=owner)


def verified_site_set(
    *, owner: User, scheme: str, host: str, path_prefix: str, when: dt.datetime
) -> VerifiedSite:
    site, _created = VerifiedSite.objects.update_or_create(
        host=host.lower(),
        path_prefix=path_prefix,
        defaults={"owner": owner, "scheme": scheme, "verified_at": when},
    )
    return site


def verified_site_remove(*, host: str, path_prefix: str) -> None:
    VerifiedSite.objects.filter(host=host.lower(), path_prefix=path_prefix).delete()
