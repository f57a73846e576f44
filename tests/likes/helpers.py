"""Shared makers for the likes tests."""

import datetime as dt

from django.utils import timezone

from likes.models import AccountKind, ConnectedAccount


def account(user, kind=AccountKind.FEED, url="https://feed.example/likes.xml", **fields):
    fields.setdefault("connected_at", timezone.now() - dt.timedelta(days=1))
    fields.setdefault("baseline_done", True)
    return ConnectedAccount.objects.create(user=user, kind=kind, url=url, **fields)
