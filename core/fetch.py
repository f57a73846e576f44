"""The safe fetcher: the only way our code reads a URL that a user gave us.

Claims, outgoing webhooks and anything else that talks to another site go
through :func:`fetch`. It refuses what could turn us into a tool against our
own network (server-side request forgery):

- http and https only, no credentials in the URL;
- every address the host resolves to must be public (no loopback, private,
  link-local, metadata, multicast, reserved or unspecified address), checked
  after DNS resolution and again on every redirect;
- the connection goes to the address that was checked (the Host header and
  TLS name stay the host's), so DNS rebinding cannot swap it in between;
- connect and read timeouts plus one total deadline that bounds the whole
  fetch: name resolution, connect, TLS handshake, request, status line,
  headers, chunk-size lines and body, over every redirect. Every read and
  write on the socket gets the time left (at most the read timeout), so a
  server that sends one byte just before each read timeout cannot hold us
  past the deadline. At most ``max_redirects`` redirects (3 by default, 0
  follows none), at most ``max_bytes`` read (1 MB by default), and our own
  User-Agent.

Settings (all optional): ``FETCH_ALLOWED_HOSTS`` (host names, or
``.example.org`` for a domain and its subdomains, whose addresses are not
checked), ``FETCH_ALLOWED_NETWORKS`` (CIDRs accepted although not public,
for tests and self-hosted intranets), ``FETCH_USER_AGENT``,
``FETCH_CONNECT_TIMEOUT``, ``FETCH_READ_TIMEOUT``, ``FETCH_TOTAL_TIMEOUT``
(seconds).

Every refusal is a :class:`FetchError` subclass with a stable ``code`` that
callers map to a message for people; ``str(error)`` is an English reason for
logs. Never call this inside a database transaction.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings

MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that must not follow a redirect to another host.
PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """A fetch was refused or failed; ``code`` says which way, stably."""

    code = "error"

    def __init__(self, reason: str, *, url: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.url = url


class FetchURLError(FetchError):
    """The URL is not an http(s) URL we may fetch."""

    code = "bad_url"


class FetchDNSError(FetchError):
    """The host name does not resolve."""

    code = "dns"


class FetchAddressRefused(FetchError):
    """The host resolves to an address that is not public."""

    code = "address_refused"


class FetchConnectError(FetchError):
    """The connection (or the TLS handshake) failed."""

    code = "connect"


class FetchTimeout(FetchError):
    """The server was too slow to connect, answer or finish."""

    code = "timeout"


class FetchTooManyRedirects(FetchError):
    """More redirects than allowed (a redirect loop ends here too)."""

    code = "redirects"


class FetchTooLarge(FetchError):
    """The body is over the size limit."""

    code = "too_large"


class FetchProtocolError(FetchError):
    """The server did not speak HTTP properly."""

    code = "protocol"


@dataclass
class FetchResponse:
    url: str  # the final URL, after redirects
    status: int
    headers: Message
    body: bytes
    redirects: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        charset = self.headers.get_content_charset() or "utf-8"
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


def user_agent() -> str:
    default = f"OpenFlattr-Fetcher/1.0 (+{getattr(settings, 'SITE_URL', '')})"
    return getattr(settings, "FETCH_USER_AGENT", "") or default


def address_is_public(address: IPAddress) -> bool:
    """True for an address anyone on the Internet could reach."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address in IPv6 clothing is judged as the IPv4 address.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is not None:
            return address_is_public(embedded)
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local  # includes 169.254.169.254, the cloud metadata address
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(net, strict=False)
        for net in getattr(settings, "FETCH_ALLOWED_NETWORKS", [])
    ]


def _host_allowed(host: str) -> bool:
    host = host.lower().rstrip(".")
    for allowed in getattr(settings, "FETCH_ALLOWED_HOSTS", []):
        allowed = allowed.lower().rstrip(".")
        if allowed.startswith("."):
            if host == allowed[1:] or host.endswith(allowed):
                return True
        elif host == allowed:
            return True
    return False


def address_allowed(host: str, address: IPAddress) -> bool:
    if _host_allowed(host) or address_is_public(address):
        return True
    return any(address in net for net in _allowed_networks())


@dataclass
class _Target:
    scheme: str
    host: str  # as in the URL (IDNA-encoded), for Host and TLS
    port: int
    path: str  # path and query, what goes on the request line
    address: str  # the checked IP we connect to


def _time_left(deadline: float, *, url: str, what: str) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchTimeout(f"the total deadline passed before {what}", url=url)
    return remaining


def _getaddrinfo(host: str, port: int, *, deadline: float, url: str) -> list:
    """``socket.getaddrinfo`` bounded by the deadline. The system resolver
    cannot be interrupted, so it runs in a daemon thread that we stop
    waiting for (it ends by itself when the resolver gives up)."""
    timeout = _time_left(deadline, url=url, what="resolving the host")
    outcome: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="fetch-dns", daemon=True).start()
    if not done.wait(timeout):
        raise FetchTimeout(f"resolving {host!r} took too long", url=url)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["infos"]  # type: ignore[return-value]


def resolve(url: str, *, deadline: float | None = None) -> _Target:
    """Check a URL and resolve its host to one address we may connect to
    (by ``deadline``, a ``time.monotonic()`` value; by default the total
    timeout from now)."""
    if deadline is None:
        deadline = time.monotonic() + _setting("FETCH_TOTAL_TIMEOUT", 20)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchURLError(f"not a valid URL: {exc}", url=url) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchURLError(
            f"only http and https URLs are fetched, not {scheme or 'none'!r}", url=url
        )
    if not parts.hostname:
        raise FetchURLError("the URL has no host", url=url)
    if parts.username is not None or parts.password is not None:
        raise FetchURLError("the URL carries credentials", url=url)
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise FetchURLError(f"not a valid host name: {parts.hostname!r}", url=url) from exc
    port = port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query

    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        candidates = [literal]
    else:
        try:
            infos = _getaddrinfo(host, port, deadline=deadline, url=url)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchDNSError(f"the host {host!r} does not resolve", url=url) from exc
        candidates = []
        for info in infos:
            # Drop an IPv6 scope ("fe80::1%eth0") before parsing.
            candidate = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if candidate not in candidates:
                candidates.append(candidate)
        if not candidates:
            raise FetchDNSError(f"the host {host!r} does not resolve", url=url)
    # One refused address refuses the host: a name that resolves to both a
    # public and a private address is a rebinding attempt or a mistake.
    for candidate in candidates:
        if not address_allowed(host, candidate):
            raise FetchAddressRefused(
                f"the host {host!r} resolves to {candidate}, which is not a public address",
                url=url,
            )
    return _Target(scheme, host, port, path, str(candidates[0]))


class _DeadlineSocket:
    """A connected socket whose every read and write gets the time left
    before the deadline (at most ``read_timeout``), and fails with
    ``TimeoutError`` once the deadline has passed. http.client reads the
    status line, headers, chunk-size lines and body through ``makefile``,
    so all of them are bounded, not only the body."""

    def __init__(self, sock: socket.socket, deadline: float, read_timeout: float):
        self._sock = sock
        self._deadline = deadline
        self._read_timeout = read_timeout

    def _arm(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the total deadline passed")
        self._sock.settimeout(min(self._read_timeout, remaining))

    def sendall(self, data: bytes) -> None:
        self._arm()
        self._sock.sendall(data)

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        self._arm()
        return self._sock.recv_into(buffer, nbytes)

    def makefile(self, mode: str = "rb", *args: object, **kwargs: object) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError(f"only 'rb' is supported, not {mode!r}")
        return io.BufferedReader(_DeadlineReader(self))

    def close(self) -> None:
        self._sock.close()


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket):
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._sock.recv_into(buffer)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address while speaking to the host by name;
    connect, TLS handshake and every read and write after them end by the
    deadline."""

    def __init__(
        self, target: _Target, connect_timeout: float, read_timeout: float, deadline: float
    ):
        super().__init__(target.host, target.port, timeout=connect_timeout)
        self.address = target.address
        self.read_timeout = read_timeout
        self.deadline = deadline

    def _time_left(self, limit: float) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the total deadline passed")
        return min(limit, remaining)

    def _open(self) -> socket.socket:
        sock = socket.create_connection(
            (self.address, self.port), self._time_left(self.timeout or self.read_timeout)
        )
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def connect(self) -> None:
        self.sock = _DeadlineSocket(self._open(), self.deadline, self.read_timeout)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def __init__(
        self,
        target: _Target,
        connect_timeout: float,
        read_timeout: float,
        deadline: float,
        context: ssl.SSLContext,
    ):
        super().__init__(target, connect_timeout, read_timeout, deadline)
        self.context = context

    def connect(self) -> None:
        sock = self._open()
        # The handshake gets the time left, like every read.
        sock.settimeout(self._time_left(self.read_timeout))
        try:
            # The certificate is checked against the host name, not the address.
            tls = self.context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = _DeadlineSocket(tls, self.deadline, self.read_timeout)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def fetch(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    max_redirects: int = MAX_REDIRECTS,
    max_bytes: int = MAX_BYTES,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    total_timeout: float | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> FetchResponse:
    """Fetch ``url`` safely; raise a :class:`FetchError` with the reason.

    With ``max_redirects=0`` a redirect is returned as the response, not
    followed. Any status is returned (check ``response.ok``); only refusals
    and transport failures raise.
    """
    connect_timeout = connect_timeout or _setting("FETCH_CONNECT_TIMEOUT", 5)
    read_timeout = read_timeout or _setting("FETCH_READ_TIMEOUT", 10)
    deadline = time.monotonic() + (total_timeout or _setting("FETCH_TOTAL_TIMEOUT", 20))
    context = ssl_context or ssl.create_default_context()
    send_headers = {"User-Agent": user_agent(), "Accept-Encoding": "identity"}
    send_headers.update(headers or {})
    redirects: list[str] = []
    current = url
    while True:
        target = resolve(current, deadline=deadline)
        response = _request_once(
            target, current, method, body, send_headers, max_bytes,
            connect_timeout, read_timeout, deadline, context,
        )  # fmt: skip
        location = response.headers.get("Location")
        if response.status not in REDIRECT_STATUSES or not location or max_redirects == 0:
            response.redirects = redirects
            return response
        if len(redirects) >= max_redirects:
            raise FetchTooManyRedirects(
                f"more than {max_redirects} redirects (last to {location})", url=url
            )
        following = urljoin(current, location.strip())
        if urlsplit(following).hostname != urlsplit(current).hostname:
            send_headers = {
                k: v for k, v in send_headers.items() if k.lower() not in PRIVATE_HEADERS
            }
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method, body = "GET", None
        redirects.append(following)
        current = following


def _request_once(
    target: _Target,
    url: str,
    method: str,
    body: bytes | None,
    headers: dict[str, str],
    max_bytes: int,
    connect_timeout: float,
    read_timeout: float,
    deadline: float,
    context: ssl.SSLContext,
) -> FetchResponse:
    conn: _PinnedHTTPConnection
    if target.scheme == "https":
        conn = _PinnedHTTPSConnection(target, connect_timeout, read_timeout, deadline, context)
    else:
        conn = _PinnedHTTPConnection(target, connect_timeout, read_timeout, deadline)
    try:
        try:
            conn.request(method, target.path, body=body, headers=headers)
            raw = conn.getresponse()
            length = raw.getheader("Content-Length")
            if length and length.strip().isdigit() and int(length) > max_bytes:
                raise FetchTooLarge(f"the body is {int(length)} bytes, over {max_bytes}", url=url)
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise FetchTimeout("the server took too long to send the body", url=url)
                chunk = raw.read1(64 * 1024) if hasattr(raw, "read1") else raw.read(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FetchTooLarge(f"the body is over {max_bytes} bytes", url=url)
                chunks.append(chunk)
        except TimeoutError as exc:
            raise FetchTimeout(f"the server did not answer in time ({exc})", url=url) from exc
        except ssl.SSLError as exc:
            raise FetchConnectError(
                f"the TLS handshake failed: {exc.reason or exc}", url=url
            ) from exc
        except (http.client.HTTPException, ValueError) as exc:
            raise FetchProtocolError(
                f"the server's answer is not valid HTTP: {exc!r}", url=url
            ) from exc
        except OSError as exc:
            raise FetchConnectError(f"could not connect: {exc.strerror or exc}", url=url) from exc
    finally:
        conn.close()
    return FetchResponse(url=url, status=raw.status, headers=raw.msg, body=b"".join(chunks))
