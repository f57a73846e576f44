"""Local stand-ins for the outside services that connected accounts talk to.

Each fake is a real HTTP server on a loopback port, answering as the
service's documented API does; tests drive it (add favourites, revoke a
token, force a 429 or a malformed answer) and read what it was asked.

- :class:`tests.fakes.mastodon.FakeMastodon`: the Mastodon client API
  (also what GoToSocial, Pleroma/Akkoma and Pixelfed speak);
- :class:`tests.fakes.github.FakeGitHub`: GitHub's OAuth pages and REST API.

Fixtures ``mastodon_fake`` and ``github_fake`` (registered in
tests/conftest.py) start one for a test and let the safe fetcher reach it.

The common part is here: a threaded server, a parsed :class:`Request`, a
:class:`Response`, and :meth:`FakeServer.force` to make the next answers on
a path anything at all (an error, HTML, a huge or slow body).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import pytest

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass
class Request:
    method: str
    path: str  # without the query
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    form: dict[str, Any] = field(default_factory=dict)  # form or JSON body

    @property
    def bearer(self) -> str | None:
        """The token of ``Authorization: Bearer X`` (or GitHub's ``token X``)."""
        value = self.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() in ("bearer", "token") and token.strip():
            return token.strip()
        return None


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds to wait before answering (a slow server)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(
            status, {"Content-Type": JSON_TYPE, **(headers or {})}, json.dumps(data).encode()
        )

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, {"Content-Type": HTML_TYPE}, text.encode())

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        return cls(status, {"Location": location})


def _parse_body(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if not body:
        return {}
    if kind == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    if kind in ("application/x-www-form-urlencoded", ""):
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v if k.endswith("[]") else v[-1] for k, v in parsed.items()}
    return {}


class FakeServer:
    """A threaded HTTP server whose answers come from :meth:`handle`.

    Subclasses implement ``handle(request) -> Response``. ``requests`` lists
    every request received, in order.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[Request] = []
        self.lock = threading.RLock()
        self._forced: dict[str, list[Response]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                request = Request(
                    self.command, parts.path, query, headers, body, _parse_body(headers, body)
                )
                with fake.lock:
                    fake.requests.append(request)
                    forced = fake._forced.get(parts.path)
                    response = forced.pop(0) if forced else None
                if response is None:
                    response = fake.handle(request)
                if response.delay:
                    time.sleep(response.delay)
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in response.headers:
                    self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(response.body)

            do_GET = do_POST = do_HEAD = do_DELETE = do_PUT = do_PATCH = _serve

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- the server ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def authority(self) -> str:
        """host:port, what a person types as the instance's name."""
        return f"{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"{self.base_url}{path}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(self, request: Request) -> Response:  # pragma: no cover - overridden
        return Response(404, {"Content-Type": "text/plain"}, b"not found")

    # -- what tests control -------------------------------------------------

    def force(
        self,
        path: str,
        status: int = 200,
        body: bytes | str = b"",
        *,
        headers: dict[str, str] | None = None,
        content_type: str = JSON_TYPE,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests to ``path`` get this answer instead
        of the normal one (malformed JSON, HTML, a 500, a slow or huge body)."""
        data = body.encode() if isinstance(body, str) else body
        response = Response(status, {"Content-Type": content_type, **(headers or {})}, data, delay)
        with self.lock:
            self._forced.setdefault(path, []).extend([response] * times)

    def requests_to(self, path: str, method: str | None = None) -> list[Request]:
        with self.lock:
            return [
                r
                for r in self.requests
                if r.path == path and (method is None or r.method == method)
            ]


def approve(authorize_url: str, *, allow: bool = True) -> str:
    """Do what a person does on a fake's authorisation page: open it and
    press Authorize (or Deny/Cancel). Returns where the fake sends the
    browser back (the redirect URI with ``code`` and ``state``, or ``error``).
    An authorisation page that refuses the request raises AssertionError."""
    import http.client
    import re
    from html import unescape
    from urllib.parse import urlencode

    parts = urlsplit(authorize_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    connection.request("GET", f"{parts.path}?{parts.query}")
    page = connection.getresponse()
    text = page.read().decode()
    assert page.status == 200, f"authorize page answered {page.status}: {text[:300]}"
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', text, re.S)
    assert form is not None, text[:300]
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2)
        )
    }
    buttons = re.findall(r'<button type="submit" name="([^"]+)" value="([^"]+)">', form.group(2))
    name, value = buttons[0] if allow else buttons[1]
    fields[name] = value
    connection.request(
        "POST",
        form.group(1),
        body=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    answer = connection.getresponse()
    answer.read()
    connection.close()
    assert answer.status == 302, answer.status
    return answer.getheader("Location") or ""


def _loopback_fetches(settings: Any) -> None:
    settings.FETCH_ALLOWED_HOSTS = []
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def mastodon_fake(settings: Any) -> Iterator[Any]:
    """A fake Mastodon instance at ``mastodon_fake.base_url`` (one account,
    ``alice``, signed in on its authorize page), reachable by the safe fetcher."""
    from tests.fakes.mastodon import FakeMastodon

    _loopback_fetches(settings)
    with FakeMastodon() as fake:
        yield fake


@pytest.fixture
def github_fake(settings: Any) -> Iterator[Any]:
    """A fake GitHub (OAuth pages and REST API on one server) with the
    settings pointing at it and an OAuth app registered for our client id."""
    from tests.fakes.github import FakeGitHub

    _loopback_fetches(settings)
    with FakeGitHub() as fake:
        settings.GITHUB_OAUTH_URL = fake.base_url
        settings.GITHUB_API_URL = fake.base_url
        settings.GITHUB_CLIENT_ID = fake.client_id
        settings.GITHUB_CLIENT_SECRET = fake.client_secret
        yield fake
