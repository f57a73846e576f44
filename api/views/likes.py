"""The supporter's like-flattrs with where each came from: ``GET
/rest/v2/user/likes`` (logged in, as /user/flattrs), an extension of
Flattr's API for connected accounts (docs/connected-accounts.md)."""

from __future__ import annotations

from rest_framework.response import Response

from api import representations as rep
from api import schema
from api.views.base import ApiView, paginate
from likes import overview
from likes.models import Like


def like_json(like: Like, urls: rep.Urls) -> dict:
    account = like.account
    return {
        "type": "like",
        "id": like.pk,
        "url": like.url,
        "title": like.title,
        "liked_at": rep.unix(like.liked_at),
        "flattred_at": rep.unix(like.flattred_at),
        "period": like.period.strftime("%Y-%m") if like.period else "",
        "thing": rep.mini_thing(like.thing, urls) if like.thing is not None else None,
        "source": {
            "kind": account.kind,
            "account": overview.account_label(account),
            "address": overview.public_address(account.url),
            "description": overview.origin_words(account.kind, account.url),
        },
    }


class MyLikesView(ApiView):
    login = {"GET"}

    @schema.listing(
        operation_id="user_likes",
        summary="The authenticated user's flattrs made from likes on connected accounts",
        item=schema.LikeFlattr,
    )
    def get(self, request):
        page, count = self.page_and_count()
        likes = overview.like_flattrs(user=request.user).select_related("thing__owner")
        return Response([like_json(like, self.urls) for like in paginate(likes, page, count)])
