"""A fake GitHub: the OAuth app pages and the REST API as docs.github.com
documents them, on one server (set ``api_prefix="/api/v3"`` for the shape of
GitHub Enterprise Server).

Routes: ``GET|POST /login/oauth/authorize`` (an approve page),
``POST /login/oauth/access_token`` (form-encoded answer, or JSON with
``Accept: application/json``; errors are 200 with ``error`` as on GitHub),
``GET /user``, ``GET /user/starred`` (``application/vnd.github.star+json``
gives ``[{starred_at, repo}]``; ``sort``/``direction``/``per_page``/``page``;
``Link`` first/prev/next/last; ``X-RateLimit-*``), ``DELETE
/applications/{client_id}/grant`` (basic auth with the app's client id and
secret, JSON ``{"access_token"}``: 204, and every token of that user's
grant stops working; wrong credentials 404, an unknown token 422).

Tests drive it::

    token = fake.issue_token("octocat")
    fake.star("octocat", "someone/project")
    fake.revoke(token)                  # 401 Bad credentials from now on
    fake.rate_limit()                   # the next API call: 403, remaining 0
    fake.rate_limit(status=429, retry_after=30)   # a secondary limit
"""

from __future__ import annotations

import base64
import html
import itertools
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.fakes import FakeServer, Request, Response
from tests.fakes.mastodon import s256

STAR_TYPE = "application/vnd.github.star+json"
DOCS = "https://docs.github.com/rest"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeGitHub(FakeServer):
    def __init__(
        self, host: str = "127.0.0.1", *, api_prefix: str = "", rate_limit: int = 5000
    ) -> None:
        super().__init__(host)
        self.api_prefix = api_prefix
        self.limit = rate_limit
        self.used = 0
        self._ids = itertools.count(1_000_001)
        self.client_id = "Iv1.fakeclient" + secrets.token_hex(4)
        self.client_secret = secrets.token_hex(20)
        self.users: dict[str, dict[str, Any]] = {}
        self.repos: dict[str, dict[str, Any]] = {}  # full_name -> repo
        self.stars: dict[str, list[tuple[datetime, str]]] = {}  # login -> [(at, full_name)]
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.signed_in = self.add_user("octocat")["login"]

    @property
    def api_url(self) -> str:
        return self.url(self.api_prefix)

    # -- what tests set up ----------------------------------------------------

    def add_user(self, login: str) -> dict[str, Any]:
        user_id = next(self._ids)
        user = {
            "login": login,
            "id": user_id,
            "node_id": f"MDQ6VXNlcj{user_id}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
            "url": self.url(f"{self.api_prefix}/users/{login}"),
            "html_url": self.url(f"/{login}"),
            "type": "User",
            "site_admin": False,
        }
        with self.lock:
            self.users[login] = user
        return user

    def add_repo(self, full_name: str, *, description: str = "") -> dict[str, Any]:
        owner_login, _, name = full_name.partition("/")
        with self.lock:
            owner = self.users.get(owner_login) or self.add_user(owner_login)
            repo_id = next(self._ids)
            repo = {
                "id": repo_id,
                "node_id": f"MDEwOlJlcG9zaXRvcnk{repo_id}",
                "name": name,
                "full_name": full_name,
                "private": False,
                "owner": {
                    k: owner[k]
                    for k in (
                        "login",
                        "id",
                        "node_id",
                        "avatar_url",
                        "url",
                        "html_url",
                        "type",
                        "site_admin",
                    )
                },
                "html_url": self.url(f"/{full_name}"),
                "description": description or f"The {name} project",
                "fork": False,
                "url": self.url(f"{self.api_prefix}/repos/{full_name}"),
                "homepage": None,
                "language": "Python",
                "stargazers_count": 0,
                "topics": [],
                "visibility": "public",
                "default_branch": "main",
                "created_at": "2020-01-01T00:00:00Z",
                "updated_at": _iso(datetime.now(UTC)),
                "pushed_at": _iso(datetime.now(UTC)),
            }
            self.repos[full_name] = repo
        return repo

    def star(
        self, login: str = "octocat", full_name: str | None = None, *, at: datetime | None = None
    ) -> dict[str, Any]:
        """``login`` stars a repository (a new one if none given)."""
        with self.lock:
            if full_name is None:
                full_name = f"maker{next(self._ids)}/project"
            repo = self.repos.get(full_name) or self.add_repo(full_name)
            repo["stargazers_count"] += 1
            self.stars.setdefault(login, []).append((at or datetime.now(UTC), full_name))
        return repo

    def issue_token(self, login: str = "octocat", *, scope: str = "") -> str:
        token = "gho_" + secrets.token_hex(18)
        with self.lock:
            self.tokens[token] = {"login": login, "scope": scope, "revoked": False}
        return token

    def revoke(self, token: str) -> None:
        with self.lock:
            self.tokens[token]["revoked"] = True

    def live_tokens(self) -> list[str]:
        with self.lock:
            return [t for t, grant in self.tokens.items() if not grant["revoked"]]

    def rate_limit(
        self, path: str = "/user/starred", *, status: int = 403, retry_after: int | None = None
    ) -> None:
        """The next call to ``path`` is refused: 403 with remaining 0 (the
        primary limit), or ``status=429`` with Retry-After (a secondary one)."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Used": str(self.limit),
            "X-RateLimit-Reset": str(int(time.time()) + (retry_after or 3600)),
            "X-RateLimit-Resource": "core",
        }
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        message = (
            "API rate limit exceeded for user ID 1."
            if status == 403
            else "You have exceeded a secondary rate limit."
        )
        self.force(
            self.api_prefix + path,
            status,
            f'{{"message":"{message}","documentation_url":"{DOCS}"}}',
            headers=headers,
        )

    # -- the service ------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        route = (request.method, request.path)
        api = self.api_prefix
        if route == ("GET", "/login/oauth/authorize"):
            return self._authorize_page(request)
        if route == ("POST", "/login/oauth/authorize"):
            return self._authorize_decide(request)
        if route == ("POST", "/login/oauth/access_token"):
            return self._access_token(request)
        if route == ("GET", f"{api}/user"):
            return self._authed(request, lambda grant: Response.json(self.users[grant["login"]]))
        if route == ("GET", f"{api}/user/starred"):
            return self._authed(request, lambda grant: self._starred(request, grant))
        if route == ("DELETE", f"{api}/applications/{self.client_id}/grant"):
            return self._delete_grant(request)
        return Response.json({"message": "Not Found", "documentation_url": DOCS}, 404)

    def _authorize_page(self, request: Request) -> Response:
        q = request.query
        if q.get("client_id") != self.client_id:
            return Response.html("<!doctype html><title>404</title><p>Not Found</p>", 404)
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{_attr(v)}">' for k, v in q.items()
        )
        return Response.html(
            f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Authorize application</title></head><body><main>
<h1>Authorize the application</h1>
<p>Signed in as <strong>{_attr(self.signed_in)}</strong>. Scope: {_attr(q.get("scope") or "(none)")}</p>
<form method="post" action="/login/oauth/authorize">{hidden}
<button type="submit" name="authorize" value="1">Authorize</button>
<button type="submit" name="authorize" value="0">Cancel</button>
</form></main></body></html>"""
        )

    def _authorize_decide(self, request: Request) -> Response:
        form = request.form
        redirect = str(form.get("redirect_uri") or "")
        if form.get("client_id") != self.client_id or not redirect:
            return Response.html("<p>Bad request</p>", 400)
        joiner = "&" if urlsplit(redirect).query else "?"
        state = {"state": form["state"]} if form.get("state") else {}
        if form.get("authorize") != "1":
            query = urlencode(
                {
                    "error": "access_denied",
                    "error_description": "The user has denied your application access.",
                    **state,
                }
            )
            return Response.redirect(f"{redirect}{joiner}{query}")
        code = secrets.token_hex(10)
        with self.lock:
            self.codes[code] = {
                "login": self.signed_in,
                "redirect_uri": redirect,
                "scope": form.get("scope") or "",
                "challenge": form.get("code_challenge"),
            }
        return Response.redirect(f"{redirect}{joiner}{urlencode({'code': code, **state})}")

    def _access_token(self, request: Request) -> Response:
        form = dict(request.form)
        form.update({k: v for k, v in request.query.items() if k not in form})
        wants_json = "application/json" in request.headers.get("accept", "")

        def answer(data: dict[str, str]) -> Response:
            if wants_json:
                return Response.json(data)
            return Response(
                200,
                {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                urlencode(data).encode(),
            )

        def error(code: str, description: str) -> Response:
            return answer({"error": code, "error_description": description, "error_uri": DOCS})

        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return error(
                "incorrect_client_credentials",
                "The client_id and/or client_secret passed are incorrect.",
            )
        with self.lock:
            grant = self.codes.pop(str(form.get("code") or ""), None)
        if grant is None:
            return error("bad_verification_code", "The code passed is incorrect or expired.")
        if form.get("redirect_uri") and form["redirect_uri"] != grant["redirect_uri"]:
            return error(
                "redirect_uri_mismatch",
                "The redirect_uri MUST match the registered callback URL for this application.",
            )
        if grant["challenge"] and s256(str(form.get("code_verifier") or "")) != grant["challenge"]:
            return error("bad_verification_code", "The code_verifier does not match.")
        token = self.issue_token(grant["login"], scope=grant["scope"])
        return answer({"access_token": token, "scope": grant["scope"], "token_type": "bearer"})

    def _authed(self, request: Request, answer: Any) -> Response:
        grant = self.tokens.get(request.bearer or "")
        if grant is None or grant["revoked"]:
            return Response.json(
                {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}, 401
            )
        with self.lock:
            self.used += 1
            used = self.used
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.limit - used, 0)),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Media-Type": "github.v3; format=json",
        }
        if used > self.limit:
            return Response.json(
                {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCS},
                403,
                headers,
            )
        response: Response = answer(grant)
        response.headers.update(headers)
        return response

    def _delete_grant(self, request: Request) -> Response:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            credentials = base64.b64decode(encoded).decode()
        except ValueError:
            credentials = ""
        if scheme.lower() != "basic" or credentials != f"{self.client_id}:{self.client_secret}":
            return Response.json({"message": "Not Found", "documentation_url": DOCS}, 404)
        with self.lock:
            grant = self.tokens.get(str(request.form.get("access_token") or ""))
            if grant is None:
                return Response.json(
                    {"message": "Validation Failed", "documentation_url": DOCS}, 422
                )
            for other in self.tokens.values():
                if other["login"] == grant["login"]:
                    other["revoked"] = True
        return Response(204)

    def _starred(self, request: Request, grant: dict[str, Any]) -> Response:
        q = request.query
        try:
            per_page = min(max(int(q.get("per_page") or 30), 1), 100)
            page = max(int(q.get("page") or 1), 1)
        except ValueError:
            return Response.json({"message": "Invalid request.", "documentation_url": DOCS}, 422)
        with self.lock:
            rows = list(self.stars.get(grant["login"], []))
        reverse = q.get("direction", "desc") != "asc"
        if q.get("sort", "created") == "updated":
            rows.sort(key=lambda r: self.repos[r[1]]["updated_at"], reverse=reverse)
        else:
            rows.sort(key=lambda r: r[0], reverse=reverse)
        chunk = rows[(page - 1) * per_page : page * per_page]
        with_dates = STAR_TYPE in request.headers.get("accept", "")
        items = [
            {"starred_at": _iso(at), "repo": self.repos[name]} if with_dates else self.repos[name]
            for at, name in chunk
        ]
        last = max((len(rows) + per_page - 1) // per_page, 1)
        headers = {}
        links = self._links(request, page, last)
        if links:
            headers["Link"] = links
        return Response.json(items, headers=headers)

    def _links(self, request: Request, page: int, last: int) -> str:
        query = dict(request.query)

        def link(number: int, rel: str) -> str:
            query["page"] = str(number)
            return f'<{self.url(request.path)}?{urlencode(query)}>; rel="{rel}"'

        parts = []
        if page > 1:
            parts += [link(page - 1, "prev")]
        if page < last:
            parts += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            parts += [link(1, "first")]
        return ", ".join(parts)


def _attr(value: object) -> str:
    return html.escape(str(value), quote=True)
