"""Stars of a GitHub account: ``GET /user/starred`` with the
``application/vnd.github.star+json`` media type, which dates each star
(``starred_at``), newest first (``sort=created&direction=desc``), paginated
by ``Link``. A star is a like of the repository's page (``html_url``); its
remote id is the repository's id, so starring again never flattrs twice.

Reading stops at the first star older than the connection or than the
newest star of the last poll, or at a page holding a star already
recorded. ``GITHUB_API_URL`` says where the API is (GitHub Enterprise too);
it goes through the safe fetcher like every other host (an Enterprise
server on a private network is listed in ``FETCH_ALLOWED_HOSTS``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.utils.dateparse import parse_datetime

from likes.flattring import RemoteLike, likes_known
from likes.models import ConnectedAccount
from likes.sources.base import (
    MAX_PAGES,
    SourceError,
    SourceRead,
    check,
    get,
    json_body,
    links,
    now_utc,
    rate_wait,
    same_origin,
)

STAR_TYPE = "application/vnd.github.star+json"
WHAT = "GitHub"


def _like(item: Any) -> RemoteLike | None:
    if not isinstance(item, dict) or not isinstance(item.get("repo"), dict):
        return None
    repo = item["repo"]
    starred_at = parse_datetime(str(item.get("starred_at") or ""))
    if repo.get("id") is None or not isinstance(repo.get("html_url"), str) or starred_at is None:
        return None
    if starred_at.tzinfo is None:
        starred_at = starred_at.replace(tzinfo=dt.UTC)
    title = str(repo.get("full_name") or repo["html_url"])
    return RemoteLike(
        remote_id=str(repo["id"]), url=repo["html_url"], title=title, liked_at=starred_at
    )


def read(account: ConnectedAccount) -> SourceRead:
    api = account.url.rstrip("/")
    result = SourceRead()
    since = account.connected_at
    if account.cursor and (last := parse_datetime(account.cursor)) is not None:
        since = max(since, last)
    query = {"sort": "created", "direction": "desc", "per_page": 100}
    url: str | None = f"{api}/user/starred?{urlencode(query)}"
    headers = {
        "Authorization": f"Bearer {account.access_token}",
        "Accept": STAR_TYPE,
        "X-GitHub-Api-Version": "2022-11-28",
    }
    for _ in range(MAX_PAGES):
        if url is None:
            break
        now = now_utc()
        response = get(url, headers=headers)
        result.requests += 1
        check(response, now=now, what=WHAT)
        data = json_body(response, what=WHAT)
        if not isinstance(data, list):
            raise SourceError("GitHub's answer is not a list of stars.", code="not_api")
        result.wait_until = rate_wait(response.headers, now)
        likes = [like for like in map(_like, data) if like is not None]
        if likes and result.cursor is None:
            newest = max(like.liked_at for like in likes if like.liked_at)
            result.cursor = newest.isoformat()
        known = likes_known(account=account, remote_ids=[like.remote_id for like in likes])
        fresh = [like for like in likes if like.liked_at and like.liked_at >= since]
        result.likes.extend(like for like in fresh if like.remote_id not in known)
        if len(fresh) < len(likes) or known or not likes or result.wait_until is not None:
            break
        nxt = links(response).get("next")
        url = nxt if nxt and same_origin(nxt, api) else None
    return result
