"""A fake Mastodon instance speaking the client API as docs.joinmastodon.org
documents it (what GoToSocial, Pleroma/Akkoma and Pixelfed speak too).

Routes: ``POST /api/v1/apps``, ``GET|POST /oauth/authorize`` (an HTML page
with an approve form; PKCE S256 checked), ``POST /oauth/token``,
``POST /oauth/revoke``, ``GET /api/v1/accounts/verify_credentials``,
``GET /api/v1/favourites`` (newest first; ``max_id``/``since_id``/``min_id``/
``limit``; ``Link`` next/prev; ``X-RateLimit-*``), ``GET
/api/v1/accounts/lookup?acct=`` (public, with profile ``fields``),
``GET /api/v1/instance``, ``GET /api/v2/instance``,
``GET /.well-known/oauth-authorization-server``, and HTML pages for
profiles (``/@name``) and statuses (``/@name/ID``).

As on Mastodon, ``verify_credentials`` needs ``read:accounts`` (or
``profile``/``read``) and favourites need ``read:favourites`` (or ``read``);
a token without them gets 403.

Tests drive it::

    token = fake.issue_token("alice")            # skip the OAuth dance
    status = fake.favourite("alice")              # alice favourites a new post
    fake.revoke(token)                            # 401 from now on
    fake.rate_limit("/api/v1/favourites", retry_after=120)   # one 429
    fake.force("/api/v1/favourites", 200, "{oops")           # one malformed answer
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.fakes import FakeServer, Request, Response

ACCOUNT_SCOPES = {"read", "read:accounts", "profile"}
FAVOURITE_SCOPES = {"read", "read:favourites"}


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _error(status: int, message: str, description: str | None = None) -> Response:
    body: dict[str, str] = {"error": message}
    if description:
        body["error_description"] = description
    return Response.json(body, status)


class FakeMastodon(FakeServer):
    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        version: str = "4.3.2",
        require_pkce: bool = False,
        rate_limit_per_window: int = 300,
    ) -> None:
        super().__init__(host)
        self.version = version
        self.require_pkce = require_pkce
        self.limit = rate_limit_per_window
        self._ids = itertools.count(110_000_000_000_000_000)
        self.apps: dict[str, dict[str, Any]] = {}  # client_id -> app
        self.accounts: dict[str, dict[str, Any]] = {}  # username -> Account
        self.statuses: dict[str, dict[str, Any]] = {}  # id -> Status
        # username -> [(favourite id, status id)], oldest first
        self.favourites: dict[str, list[tuple[int, str]]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}  # token -> grant
        self.remaining: dict[str, int] = {}  # token -> requests left this window
        self.signed_in = self.add_account("alice", display_name="Alice")["username"]

    def _id(self) -> str:
        return str(next(self._ids))

    # -- what tests set up ----------------------------------------------------

    def add_account(
        self,
        username: str,
        *,
        display_name: str = "",
        fields: list[tuple[str, str, datetime | None]] | None = None,
    ) -> dict[str, Any]:
        """A local account. ``fields``: (name, value HTML, verified_at)."""
        account = {
            "id": self._id(),
            "username": username,
            "acct": username,
            "display_name": display_name or username,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "group": False,
            "created_at": _iso(datetime(2022, 11, 1, tzinfo=UTC)),
            "note": "<p></p>",
            "url": self.url(f"/@{username}"),
            "uri": self.url(f"/users/{username}"),
            "avatar": self.url("/avatars/original/missing.png"),
            "avatar_static": self.url("/avatars/original/missing.png"),
            "header": self.url("/headers/original/missing.png"),
            "header_static": self.url("/headers/original/missing.png"),
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": 0,
            "last_status_at": None,
            "emojis": [],
            "fields": [],
        }
        with self.lock:
            self.accounts[username] = account
        self.set_fields(username, fields or [])
        return account

    def set_fields(self, username: str, fields: list[tuple[str, str, datetime | None]]) -> None:
        """Profile metadata as Mastodon shows it: a verified link has
        ``verified_at`` (the instance found our rel="me" back-link)."""
        with self.lock:
            self.accounts[username]["fields"] = [
                {"name": name, "value": value, "verified_at": _iso(at) if at else None}
                for name, value, at in fields
            ]

    def link_field(self, name: str, href: str) -> str:
        """A field value as Mastodon renders a link (HTML, rel="me")."""
        shown = html.escape(href.split("://", 1)[-1])
        href = html.escape(href, quote=True)
        return (
            f'<a href="{href}" target="_blank" rel="nofollow noopener noreferrer me" '
            f'translate="no"><span class="invisible">http://</span><span class="">'
            f'{shown}</span><span class="invisible"></span></a>'
        )

    def add_status(
        self, author: str = "bob", *, content: str = "", url: str | None = None
    ) -> dict[str, Any]:
        """A post by ``author`` (made a local account if unknown); ``url``
        overrides its public URL (a post from another instance)."""
        with self.lock:
            if author not in self.accounts:
                self.add_account(author)
            account = self.accounts[author]
            status_id = self._id()
            status: dict[str, Any] = {
                "id": status_id,
                "created_at": _iso(datetime.now(UTC)),
                "in_reply_to_id": None,
                "in_reply_to_account_id": None,
                "sensitive": False,
                "spoiler_text": "",
                "visibility": "public",
                "language": "en",
                "uri": self.url(f"/users/{author}/statuses/{status_id}"),
                "url": url or self.url(f"/@{author}/{status_id}"),
                "replies_count": 0,
                "reblogs_count": 0,
                "favourites_count": 0,
                "edited_at": None,
                "favourited": False,
                "reblogged": False,
                "muted": False,
                "bookmarked": False,
                "content": content or f"<p>Post {status_id} by {author}</p>",
                "reblog": None,
                "application": None,
                "account": account,
                "media_attachments": [],
                "mentions": [],
                "tags": [],
                "emojis": [],
                "card": None,
                "poll": None,
            }
            account["statuses_count"] += 1
            account["last_status_at"] = status["created_at"][:10]
            self.statuses[status_id] = status
            return status

    def favourite(self, username: str = "alice", status_id: str | None = None) -> dict[str, Any]:
        """``username`` favourites a post (a new one by bob if none given)."""
        with self.lock:
            status = self.statuses[status_id] if status_id else self.add_status()
            self.favourites.setdefault(username, []).append((int(self._id()), status["id"]))
            status["favourites_count"] += 1
            return status

    def issue_token(
        self, username: str = "alice", *, scope: str = "read:favourites read:accounts"
    ) -> str:
        """A user token as if the OAuth dance had happened."""
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = {
                "username": username,
                "scope": scope,
                "client_id": None,
                "revoked": False,
                "created_at": int(datetime.now(UTC).timestamp()),
            }
        return token

    def revoke(self, token: str) -> None:
        with self.lock:
            self.tokens[token]["revoked"] = True

    def rate_limit(self, path: str = "/api/v1/favourites", *, retry_after: int = 60) -> None:
        """The next request to ``path`` is refused with 429 and Retry-After."""
        reset = datetime.now(UTC) + timedelta(seconds=retry_after)
        self.force(
            path,
            429,
            '{"error":"Too many requests"}',
            headers={
                "Retry-After": str(retry_after),
                "X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": _iso(reset),
            },
        )

    def live_tokens(self) -> list[str]:
        with self.lock:
            return [t for t, grant in self.tokens.items() if not grant["revoked"]]

    # -- the API ----------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        route = (request.method, request.path)
        if route == ("POST", "/api/v1/apps"):
            return self._create_app(request)
        if route == ("GET", "/oauth/authorize"):
            return self._authorize_page(request)
        if route == ("POST", "/oauth/authorize"):
            return self._authorize_decide(request)
        if route == ("POST", "/oauth/token"):
            return self._token(request)
        if route == ("POST", "/oauth/revoke"):
            return self._revoke(request)
        if route == ("GET", "/api/v1/accounts/verify_credentials"):
            return self._authed(request, ACCOUNT_SCOPES, self._verify_credentials)
        if route == ("GET", "/api/v1/favourites"):
            return self._authed(request, FAVOURITE_SCOPES, self._favourites)
        if route == ("GET", "/api/v1/accounts/lookup"):
            return self._lookup(request)
        if route == ("GET", "/api/v1/instance"):
            return Response.json(self._instance(v2=False))
        if route == ("GET", "/api/v2/instance"):
            return Response.json(self._instance(v2=True))
        if route == ("GET", "/.well-known/oauth-authorization-server"):
            return Response.json(self._oauth_metadata())
        if request.method == "GET" and request.path.startswith("/@"):
            return self._public_page(request.path[2:])
        if request.path.startswith("/api/"):
            return _error(404, "Record not found")
        return Response.html("<!doctype html><title>Not found</title><h1>404</h1>", 404)

    def _create_app(self, request: Request) -> Response:
        form = request.form
        name = form.get("client_name")
        uris = form.get("redirect_uris") or form.get("redirect_uris[]")
        if isinstance(uris, str):
            uris = uris.split()
        if not name or not uris:
            return Response.json(
                {"error": "Validation failed: Name can't be blank, Redirect URI can't be blank"},
                422,
            )
        scopes = str(form.get("scopes") or "read").split()
        client_id = secrets.token_urlsafe(32)
        app = {
            "id": self._id(),
            "name": name,
            "website": form.get("website") or None,
            "scopes": scopes,
            "redirect_uri": "\n".join(uris),
            "redirect_uris": list(uris),
            "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=",
            "client_id": client_id,
            "client_secret": secrets.token_urlsafe(32),
            "client_secret_expires_at": 0,
        }
        with self.lock:
            self.apps[client_id] = app
        return Response.json(app)

    def _authorize_params_error(self, params: dict[str, Any]) -> str | None:
        app = self.apps.get(params.get("client_id", ""))
        if app is None:
            return "unknown client_id"
        if params.get("response_type") != "code":
            return "response_type must be code"
        if params.get("redirect_uri") not in app["redirect_uris"]:
            return "redirect_uri is not one the application registered"
        scopes = str(params.get("scope") or "read").split()
        if not set(scopes) <= set(app["scopes"]):
            return "scope is not one the application registered"
        challenge = params.get("code_challenge")
        if challenge and params.get("code_challenge_method") != "S256":
            return "code_challenge_method must be S256"
        if self.require_pkce and not challenge:
            return "PKCE is required"
        return None

    def _authorize_page(self, request: Request) -> Response:
        params = request.query
        problem = self._authorize_params_error(params)
        if problem:
            return Response.html(
                f"<!doctype html><title>Error</title><h1>Authorization error</h1>"
                f"<p>{html.escape(problem)}</p>",
                400,
            )
        app = self.apps[params["client_id"]]
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(str(v))}">'
            for k, v in params.items()
        )
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize - fake Mastodon</title></head>
<body><main>
<h1>Authorization required</h1>
<p><strong>{html.escape(app["name"])}</strong> would like permission to access your
account <strong>@{html.escape(self.signed_in)}</strong>.</p>
<p>Scopes: {html.escape(params.get("scope") or "read")}</p>
<form method="post" action="/oauth/authorize">{hidden}
<button type="submit" name="decision" value="approve">Authorize</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></main></body></html>"""
        return Response.html(page)

    def _authorize_decide(self, request: Request) -> Response:
        params = {k: v for k, v in request.form.items() if k != "decision"}
        problem = self._authorize_params_error(params)
        if problem:
            return Response.html(f"<p>{html.escape(problem)}</p>", 400)
        redirect = params["redirect_uri"]
        joiner = "&" if urlsplit(redirect).query else "?"
        state = {"state": params["state"]} if params.get("state") else {}
        if request.form.get("decision") != "approve":
            query = urlencode({"error": "access_denied", **state})
            return Response.redirect(f"{redirect}{joiner}{query}")
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {
                "client_id": params["client_id"],
                "redirect_uri": redirect,
                "scope": params.get("scope") or "read",
                "username": self.signed_in,
                "challenge": params.get("code_challenge"),
            }
        return Response.redirect(f"{redirect}{joiner}{urlencode({'code': code, **state})}")

    def _token(self, request: Request) -> Response:
        form = request.form
        app = self.apps.get(str(form.get("client_id", "")))
        if app is None or app["client_secret"] != form.get("client_secret"):
            return _error(401, "invalid_client", "Client authentication failed.")
        if form.get("grant_type") != "authorization_code":
            return _error(400, "unsupported_grant_type")
        with self.lock:
            grant = self.codes.pop(str(form.get("code", "")), None)
        invalid = _error(
            400,
            "invalid_grant",
            "The provided authorization grant is invalid, expired, revoked, does not match "
            "the redirection URI used in the authorization request, or was issued to another "
            "client.",
        )
        if grant is None or grant["client_id"] != app["client_id"]:
            return invalid
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return invalid
        if grant["challenge"]:
            verifier = str(form.get("code_verifier") or "")
            if not verifier or s256(verifier) != grant["challenge"]:
                return invalid
        token = self.issue_token(grant["username"], scope=grant["scope"])
        with self.lock:
            self.tokens[token]["client_id"] = app["client_id"]
        return Response.json(
            {
                "access_token": token,
                "token_type": "Bearer",
                "scope": grant["scope"],
                "created_at": self.tokens[token]["created_at"],
            }
        )

    def _revoke(self, request: Request) -> Response:
        form = request.form
        app = self.apps.get(str(form.get("client_id", "")))
        if app is None or app["client_secret"] != form.get("client_secret"):
            return _error(403, "unauthorized_client", "You are not authorized to revoke this token")
        with self.lock:
            grant = self.tokens.get(str(form.get("token", "")))
            if grant is not None and grant["client_id"] in (None, app["client_id"]):
                grant["revoked"] = True
        return Response.json({})  # unknown tokens too, as RFC 7009 says

    def _rate_headers(self, token: str) -> dict[str, str]:
        now = datetime.now(UTC)
        window_end = now.replace(second=0, microsecond=0) + timedelta(minutes=5 - now.minute % 5)
        with self.lock:
            left = self.remaining.get(token, self.limit) - 1
            self.remaining[token] = left
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(left, 0)),
            "X-RateLimit-Reset": _iso(window_end),
        }

    def _authed(self, request: Request, scopes: set[str], answer: Any) -> Response:
        token = request.bearer
        grant = self.tokens.get(token or "")
        if token is None or grant is None or grant["revoked"]:
            return _error(401, "The access token is invalid")
        headers = self._rate_headers(token)
        if self.remaining[token] < 0:  # the window's requests are used up
            return Response.json({"error": "Too many requests"}, 429, headers)
        if not scopes & set(grant["scope"].split()):
            return Response.json(
                {"error": "This action is outside the authorized scopes"}, 403, headers
            )
        response: Response = answer(request, grant)
        response.headers.update(headers)
        return response

    def _verify_credentials(self, request: Request, grant: dict[str, Any]) -> Response:
        account = dict(self.accounts[grant["username"]])
        account["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": "",
            "note": "",
            "fields": [
                {"name": f["name"], "value": f["value"], "verified_at": f["verified_at"]}
                for f in account["fields"]
            ],
            "follow_requests_count": 0,
        }
        return Response.json(account)

    def _favourites(self, request: Request, grant: dict[str, Any]) -> Response:
        q = request.query
        try:
            limit = min(max(int(q.get("limit") or 20), 1), 40)
            max_id = int(q["max_id"]) if q.get("max_id") else None
            since_id = int(q["since_id"]) if q.get("since_id") else None
            min_id = int(q["min_id"]) if q.get("min_id") else None
        except ValueError:
            return _error(400, "Invalid pagination parameter")
        with self.lock:
            rows = list(self.favourites.get(grant["username"], []))  # oldest first
        if max_id is not None:
            rows = [r for r in rows if r[0] < max_id]
        if since_id is not None:
            rows = [r for r in rows if r[0] > since_id]
        if min_id is not None:
            rows = [r for r in rows if r[0] > min_id][:limit]  # just above min_id
        page = sorted(rows, reverse=True)[:limit]  # newest first
        statuses = [dict(self.statuses[s], favourited=True) for _, s in page]
        links = []
        base = self.url("/api/v1/favourites")
        if len(page) == limit:
            links.append(
                f'<{base}?{urlencode({"limit": limit, "max_id": page[-1][0]})}>; rel="next"'
            )
        if page:
            links.append(
                f'<{base}?{urlencode({"limit": limit, "min_id": page[0][0]})}>; rel="prev"'
            )
        headers = {"Link": ", ".join(links)} if links else {}
        return Response.json(statuses, headers=headers)

    def _lookup(self, request: Request) -> Response:
        acct = request.query.get("acct", "").lstrip("@")
        username, _, domain = acct.partition("@")
        account = self.accounts.get(username)
        if account is None or (domain and domain != self.authority and domain != self.host):
            return _error(404, "Record not found")
        return Response.json(account)

    def _instance(self, *, v2: bool) -> dict[str, Any]:
        common = {
            "title": "Fake Mastodon",
            "version": self.version,
            "description": "A test instance",
            "languages": ["en"],
            "registrations": False,
        }
        if v2:
            return {
                "domain": self.authority,
                "source_url": "https://github.com/mastodon/mastodon",
                **common,
            }
        return {"uri": self.authority, "short_description": "A test instance", **common}

    def _oauth_metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.url("/"),
            "authorization_endpoint": self.url("/oauth/authorize"),
            "token_endpoint": self.url("/oauth/token"),
            "revocation_endpoint": self.url("/oauth/revoke"),
            "app_registration_endpoint": self.url("/api/v1/apps"),
            "scopes_supported": ["read", "read:accounts", "read:favourites", "profile", "write"],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def _public_page(self, rest: str) -> Response:
        username, _, status_id = rest.partition("/")
        account = self.accounts.get(username)
        if account is None:
            return Response.html("<!doctype html><title>Not found</title>", 404)
        if status_id:
            status = self.statuses.get(status_id)
            if status is None or status["account"]["username"] != username:
                return Response.html("<!doctype html><title>Not found</title>", 404)
            title = f"{account['display_name']}: post {status_id}"
            body = status["content"]
        else:
            title = f"{account['display_name']} (@{username})"
            body = "".join(
                f"<dl><dt>{html.escape(f['name'])}</dt><dd>{f['value']}</dd></dl>"
                for f in account["fields"]
            )
        return Response.html(
            f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
            f"<body>{body}</body></html>"
        )
