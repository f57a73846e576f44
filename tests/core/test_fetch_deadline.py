"""The total deadline bounds the whole exchange, not only the body.

Each test runs a raw socket server of its own (a thread) that answers one
byte at a time, each byte well inside the per-read timeout, so only the
total deadline can stop the fetch. Before the fix a server dribbling its
headers held the fetcher for minutes (issue #22)."""

from __future__ import annotations

import itertools
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator

import pytest

from core.fetch import FetchTimeout, fetch

TOTAL = 1.5  # the total deadline given to fetch
READ = 3.0  # the per-read timeout: longer than the pause between two bytes
PAUSE = 0.4  # between two bytes the server sends
MARGIN = 0.7  # what we allow past the deadline (thread scheduling, slow CI)
GIVE_UP = 8.0  # the server hangs up after this long, so a failing test ends


class Dribbler:
    """Accepts one connection, reads the request, then sends ``fast``
    at once and ``slow`` one byte every ``PAUSE`` seconds, then holds the
    connection open without a word."""

    def __init__(self, fast: bytes, slow: Iterable[int], *, read_request: bool = True):
        self.fast, self.slow, self.read_request = fast, iter(slow), read_request
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        try:
            conn, _addr = self.listener.accept()
        except OSError:
            return
        with conn:
            started = time.monotonic()
            try:
                if self.read_request:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        data = conn.recv(4096)
                        if not data:
                            return
                        request += data
                conn.sendall(self.fast)
                for byte in self.slow:
                    if self.stop.is_set() or time.monotonic() - started > GIVE_UP:
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(PAUSE)
                # Then keep the connection open, saying nothing.
                self.stop.wait(max(0.0, GIVE_UP - (time.monotonic() - started)))
            except OSError:
                return  # the fetcher hung up: what we want

    def __enter__(self) -> Dribbler:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.listener.close()
        self.thread.join(GIVE_UP + 2)


def forever(text: bytes) -> Iterator[int]:
    return itertools.cycle(text)


def assert_bounded(url: str, **kwargs) -> None:
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        fetch(url, read_timeout=READ, total_timeout=TOTAL, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < TOTAL + MARGIN, f"fetch took {elapsed:.1f} s with a {TOTAL} s deadline"


def test_a_slow_status_line_stops_at_the_total_deadline(allow_loopback):
    with Dribbler(b"HTTP/1.1 200 ", forever(b"OK OK ")) as server:
        assert_bounded(f"http://127.0.0.1:{server.port}/")


def test_slow_headers_stop_at_the_total_deadline(allow_loopback):
    with Dribbler(b"HTTP/1.1 200 OK\r\n", forever(b"X-Slow: a\r\n")) as server:
        assert_bounded(f"http://127.0.0.1:{server.port}/")


def test_a_slow_chunk_size_line_stops_at_the_total_deadline(allow_loopback):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    with Dribbler(head, forever(b"0")) as server:
        assert_bounded(f"http://127.0.0.1:{server.port}/")


def test_a_slow_body_stops_at_the_total_deadline(allow_loopback):
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
    with Dribbler(head, forever(b"x")) as server:
        assert_bounded(f"http://127.0.0.1:{server.port}/")


def test_a_slow_body_of_a_redirect_target_counts_against_the_same_deadline(allow_loopback):
    # The deadline is one for the whole fetch, redirects included.
    with Dribbler(b"HTTP/1.1 200 ", forever(b"OK ")) as slow:
        redirect = (
            f"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{slow.port}/\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        with Dribbler(redirect, []) as first:
            assert_bounded(f"http://127.0.0.1:{first.port}/")


def test_a_tls_handshake_that_never_completes_stops_at_the_total_deadline(allow_loopback):
    # The server accepts the connection and then says nothing.
    with Dribbler(b"", [], read_request=False) as server:
        started = time.monotonic()
        with pytest.raises(FetchTimeout):
            fetch(
                f"https://127.0.0.1:{server.port}/",
                read_timeout=READ,
                total_timeout=TOTAL,
                ssl_context=ssl.create_default_context(),
            )
        assert time.monotonic() - started < TOTAL + MARGIN


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1, and a client context that trusts it."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


def test_https_still_works_and_slow_tls_headers_stop_at_the_deadline(allow_loopback, tmp_path):
    from tests.localsite import LocalSite

    server_context, client_context = _self_signed(tmp_path)

    def slow_headers(handler):
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(int(GIVE_UP / PAUSE)):
            handler.wfile.write(b"X-Slow: a\r\n")
            handler.wfile.flush()
            time.sleep(PAUSE)

    site = LocalSite(
        {"/": (200, {"Content-Type": "text/plain"}, b"over TLS" * 1000), "/slow": slow_headers}
    )
    site.server.socket = server_context.wrap_socket(site.server.socket, server_side=True)
    with site:
        url = f"https://127.0.0.1:{site.port}"
        response = fetch(url + "/", ssl_context=client_context)
        assert response.status == 200 and response.body == b"over TLS" * 1000
        assert_bounded(url + "/slow", ssl_context=client_context)


def test_a_resolver_that_hangs_stops_at_the_total_deadline(allow_loopback, monkeypatch):
    # The system resolver is the outside world here: one that takes 5 s.
    real = socket.getaddrinfo

    def slow_getaddrinfo(host, *args, **kwargs):
        if host == "slow-dns.example":
            time.sleep(5)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    assert_bounded("http://slow-dns.example/")
