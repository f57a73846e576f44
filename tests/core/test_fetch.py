"""The safe fetcher against real local servers, and its refusals."""

import socket
import time

import pytest

from core import fetch as fetch_module
from core.fetch import (
    FetchAddressRefused,
    FetchDNSError,
    FetchProtocolError,
    FetchTimeout,
    FetchTooLarge,
    FetchTooManyRedirects,
    FetchURLError,
    fetch,
)
from tests.localsite import HTML, LocalSite


@pytest.fixture
def allow_nothing(settings):
    settings.FETCH_ALLOWED_HOSTS = []
    settings.FETCH_ALLOWED_NETWORKS = []


def redirect(to):
    return (302, {"Location": to}, b"")


def test_fetches_a_page_through_the_allowlist_with_our_user_agent(allow_loopback):
    with LocalSite({"/page": (200, HTML, "<p>héllo</p>".encode())}) as site:
        response = fetch(site.url("/page"))
    assert response.status == 200 and response.ok
    assert response.text == "<p>héllo</p>"
    method, path, headers = site.requests[0]
    assert (method, path) == ("GET", "/page")
    assert headers["User-Agent"].startswith("OpenFlattr-Fetcher/")
    assert headers["Host"] == f"127.0.0.1:{site.port}"


def test_returns_error_statuses_instead_of_raising(allow_loopback):
    with LocalSite() as site:
        response = fetch(site.url("/missing"))
    assert response.status == 404 and not response.ok


def test_posts_a_body(allow_loopback):
    seen = {}

    def echo(handler):
        seen["body"] = handler.request_body
        return (204, {}, b"")

    with LocalSite({"/hook": echo}) as site:
        response = fetch(
            site.url("/hook"),
            method="POST",
            body=b'{"a":1}',
            headers={"Content-Type": "application/json"},
        )
    assert response.status == 204
    assert seen["body"] == b'{"a":1}'


def test_follows_up_to_three_redirects(allow_loopback):
    with LocalSite() as site:
        site.routes.update(
            {
                "/a": redirect("/b"),
                "/b": redirect(site.url("/c")),
                "/c": redirect("/d"),
                "/d": (200, HTML, b"done"),
            }
        )
        response = fetch(site.url("/a"))
    assert response.body == b"done"
    assert response.url == site.url("/d")
    assert len(response.redirects) == 3


def test_a_fourth_redirect_is_refused(allow_loopback):
    with LocalSite() as site:
        site.routes.update({f"/{i}": redirect(f"/{i + 1}") for i in range(5)})
        with pytest.raises(FetchTooManyRedirects):
            fetch(site.url("/0"))


def test_a_redirect_loop_ends_with_a_clear_reason(allow_loopback):
    with LocalSite({"/loop": redirect("/loop")}) as site:
        with pytest.raises(FetchTooManyRedirects, match="more than 3 redirects"):
            fetch(site.url("/loop"))


def test_follow_none_returns_the_redirect_itself(allow_loopback):
    with LocalSite({"/a": redirect("/b"), "/b": (200, HTML, b"b")}) as site:
        response = fetch(site.url("/a"), max_redirects=0)
        assert response.status == 302
        assert [r[1] for r in site.requests] == ["/a"]


def test_a_body_over_the_limit_is_refused_by_content_length(allow_loopback):
    with LocalSite({"/big": (200, HTML, b"x" * (1024 * 1024 + 1))}) as site:
        with pytest.raises(FetchTooLarge):
            fetch(site.url("/big"))


def test_a_body_over_the_limit_is_refused_without_content_length(allow_loopback):
    def chunked(handler):
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        piece = b"y" * 65536
        for _ in range(20):  # 1.25 MB
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        handler.wfile.write(b"0\r\n\r\n")

    with LocalSite({"/stream": chunked}) as site:
        with pytest.raises(FetchTooLarge):
            fetch(site.url("/stream"))


def test_a_server_that_never_answers_times_out(allow_loopback):
    def stall(handler):
        time.sleep(3)
        return (200, HTML, b"late")

    with LocalSite({"/slow": stall}) as site:
        with pytest.raises(FetchTimeout):
            fetch(site.url("/slow"), read_timeout=0.3)


def test_a_server_that_dribbles_hits_the_overall_deadline(allow_loopback):
    def dribble(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(0.05)

    with LocalSite({"/drip": dribble}) as site:
        with pytest.raises(FetchTimeout):
            fetch(site.url("/drip"), read_timeout=1, total_timeout=0.5)


def test_a_server_that_does_not_speak_http_is_a_protocol_error(allow_loopback):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    import threading

    def garbage():
        conn, _ = listener.accept()
        conn.recv(1024)
        conn.sendall(b"SSH-2.0-OpenSSH\r\n\r\n")
        conn.close()

    threading.Thread(target=garbage, daemon=True).start()
    try:
        with pytest.raises(FetchProtocolError):
            fetch(f"http://127.0.0.1:{port}/")
    finally:
        listener.close()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/file",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://x/",
        "//no-scheme",
        "",
    ],
)
def test_only_http_and_https_urls_are_fetched(allow_nothing, url):
    with pytest.raises(FetchURLError):
        fetch(url)


def test_credentials_in_the_url_are_refused(allow_nothing):
    with pytest.raises(FetchURLError, match="credentials"):
        fetch("http://user:secret@example.org/")


def test_a_host_that_does_not_resolve_is_a_dns_error(allow_nothing):
    with pytest.raises(FetchDNSError, match="does not resolve"):
        fetch("http://no-such-host.invalid/")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://224.0.0.1/",  # multicast
        "http://240.0.0.1/",  # reserved
        "http://[fd00:ec2::254]/",  # IPv6 metadata, unique local
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
        "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
        "http://2130706433/",  # 127.0.0.1 as one number
    ],
)
def test_addresses_that_are_not_public_are_refused(allow_nothing, url):
    with pytest.raises((FetchAddressRefused, FetchDNSError)):
        fetch(url)


def test_a_real_loopback_server_is_refused_with_an_empty_allowlist(allow_nothing):
    with LocalSite({"/": (200, HTML, b"secret")}) as site:
        with pytest.raises(FetchAddressRefused, match="not a public address"):
            fetch(site.url("/"))
        with pytest.raises(FetchAddressRefused):
            fetch(site.url("/", host="localhost"))
    assert site.requests == []


def test_a_redirect_to_a_private_address_is_refused(settings):
    # Only the first hop's host is allowed: the redirect to "localhost"
    # resolves to loopback and must be checked again.
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.FETCH_ALLOWED_NETWORKS = []
    with LocalSite() as site:
        site.routes.update(
            {
                "/to-localhost": redirect(site.url("/secret", host="localhost")),
                "/to-private": redirect("http://10.0.0.7/admin"),
                "/to-metadata": redirect("http://169.254.169.254/latest/meta-data/"),
                "/secret": (200, HTML, b"secret"),
            }
        )
        for path in ("/to-localhost", "/to-private", "/to-metadata"):
            with pytest.raises(FetchAddressRefused):
                fetch(site.url(path))
    assert [r[1] for r in site.requests] == ["/to-localhost", "/to-private", "/to-metadata"]


def test_the_connection_goes_to_the_address_that_was_checked(allow_loopback, monkeypatch):
    # DNS rebinding: the first answer passes the check, later answers point
    # elsewhere. The fetcher resolves once per hop and connects to that
    # address, so later answers never matter.
    answers = iter(["127.0.0.1", "203.0.113.9", "203.0.113.9"])
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with LocalSite({"/": (200, HTML, b"pinned")}) as site:
        response = fetch(f"http://rebind.test:{site.port}/")
    assert response.body == b"pinned"
    assert site.requests[0][2]["Host"] == f"rebind.test:{site.port}"


def test_a_name_resolving_to_both_public_and_private_addresses_is_refused(
    allow_nothing, monkeypatch
):
    def mixed(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", mixed)
    with pytest.raises(FetchAddressRefused, match="10.0.0.1"):
        fetch("http://mixed.test/")


def test_an_allowed_domain_covers_its_subdomains(settings, monkeypatch):
    settings.FETCH_ALLOWED_HOSTS = [".intranet.test"]
    settings.FETCH_ALLOWED_NETWORKS = []
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))
        ],
    )
    with LocalSite({"/": (200, HTML, b"ok")}) as site:
        assert fetch(f"http://wiki.intranet.test:{site.port}/").body == b"ok"
        with pytest.raises(FetchAddressRefused):
            fetch(f"http://intranet.test.evil:{site.port}/")


def test_public_addresses_are_public():
    import ipaddress

    assert fetch_module.address_is_public(ipaddress.ip_address("93.184.216.34"))
    assert fetch_module.address_is_public(ipaddress.ip_address("2606:4700::1111"))
    assert not fetch_module.address_is_public(ipaddress.ip_address("::ffff:10.0.0.1"))
