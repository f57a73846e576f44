"""Looking for the proof on the claimed site, through the safe fetcher.

Runs outside any database transaction (it talks to another site). Returns
a :class:`CheckResult`; the services record it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from core import fetch

WELL_KNOWN_PATH = "/.well-known/flattr-verification.txt"
META_NAME = "flattr:verification"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def _matches(candidate: str, expected_hash: str) -> bool:
    return hmac.compare_digest(token_hash(candidate), expected_hash)


@dataclass
class CheckResult:
    ok: bool
    code: str = ""
    params: dict = field(default_factory=dict)
    # Addresses the proof covers (items of a verified feed).
    feed_urls: list[str] = field(default_factory=list)


class _PageScan(HTMLParser):
    """Collects verification metas and rel="me" links of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.metas: list[str] = []
        self.me_links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta" and a.get("name", "").strip().lower() == META_NAME:
            self.metas.append(a.get("content", ""))
        elif tag in ("a", "link") and "me" in a.get("rel", "").lower().split():
            self.me_links.append(a.get("href", ""))

    handle_startendtag = handle_starttag


def _get(url: str) -> fetch.FetchResponse | CheckResult:
    host = urlsplit(url).hostname or url
    try:
        response = fetch.fetch(url, headers={"Accept": "text/html,application/xml;q=0.9,*/*;q=0.5"})
    except fetch.FetchError as exc:
        return CheckResult(False, exc.code, {"host": host, "url": url, "detail": exc.reason})
    if not response.ok:
        return CheckResult(False, "http_status", {"status": response.status, "url": url})
    return response


def _same_page(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (
        (pa.hostname or "").lower() == (pb.hostname or "").lower()
        and pa.port == pb.port
        and (pa.path.rstrip("/") or "/") == (pb.path.rstrip("/") or "/")
    )


def _scan(url: str) -> tuple[fetch.FetchResponse, _PageScan] | CheckResult:
    response = _get(url)
    if isinstance(response, CheckResult):
        return response
    scan = _PageScan()
    scan.feed(response.text)
    return response, scan


def check_meta(*, url: str, expected_hash: str) -> CheckResult:
    scanned = _scan(url)
    if isinstance(scanned, CheckResult):
        return scanned
    _response, scan = scanned
    if any(_matches(content, expected_hash) for content in scan.metas):
        return CheckResult(True)
    return CheckResult(False, "meta_missing", {"url": url})


def check_well_known(*, url: str, expected_hash: str) -> CheckResult:
    parts = urlsplit(url)
    file_url = f"{parts.scheme}://{parts.netloc}{WELL_KNOWN_PATH}"
    response = _get(file_url)
    if isinstance(response, CheckResult):
        return response
    if any(_matches(line, expected_hash) for line in response.text.splitlines() if line.strip()):
        return CheckResult(True)
    return CheckResult(False, "file_missing", {"url": file_url})


def check_rel_me(*, url: str, profile_url: str) -> CheckResult:
    scanned = _scan(url)
    if isinstance(scanned, CheckResult):
        return scanned
    response, scan = scanned
    if any(_same_page(urljoin(response.url, href), profile_url) for href in scan.me_links):
        return CheckResult(True)
    return CheckResult(False, "rel_me_missing", {"url": url, "profile": profile_url})


PODCAST_TXT = re.compile(r"<podcast:txt\b([^>]*)>(.*?)</podcast:txt\s*>", re.IGNORECASE | re.DOTALL)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


ITEM_TAGS = frozenset({"item", "entry"})  # RSS and RDF items, Atom entries
# Atom links of an entry that name the entry's own page or its media.
ATOM_ITEM_RELS = frozenset({"alternate", "enclosure"})


def feed_item_urls(root: ET.Element) -> list[str]:
    """Item link and enclosure addresses of an RSS, RDF or Atom feed. Only
    what is inside an item (entry) counts: the channel's (feed's) own
    ``<link>``, image links and the like name other pages, not episodes."""
    urls: list[str] = []
    for item in root.iter():
        if _local(item.tag) not in ITEM_TAGS:
            continue
        for element in item.iter():
            name = _local(element.tag)
            if name == "link":
                if element.get("href") is not None:  # Atom
                    if (element.get("rel") or "alternate").lower() in ATOM_ITEM_RELS:
                        urls.append(element.get("href", "").strip())
                elif element.text:  # RSS, RDF
                    urls.append(element.text.strip())
            elif name == "enclosure" and element.get("url"):
                urls.append(element.get("url", "").strip())
            elif name == "guid" and element.get("isPermaLink", "true") == "true":
                text = (element.text or "").strip()
                if text.startswith(("http://", "https://")):
                    urls.append(text)
    return [u for u in dict.fromkeys(urls) if u.startswith(("http://", "https://"))]


def _xml_text(value: str) -> str:
    import html

    value = value.strip()
    cdata = re.fullmatch(r"<!\[CDATA\[(.*)\]\]>", value, re.DOTALL)
    return cdata.group(1).strip() if cdata else html.unescape(value)


def check_podcast_txt(*, url: str, expected_hash: str) -> CheckResult:
    response = _get(url)
    if isinstance(response, CheckResult):
        return response
    text = response.text
    # Feeds need no DTD: refusing entity declarations closes the XML bombs
    # (and the body is already capped at 1 MB); ElementTree never fetches.
    if b"<!ENTITY" in response.body.upper():
        return CheckResult(False, "not_a_feed", {"url": url})
    try:
        root = ET.fromstring(response.body)  # noqa: S314 - see above
    except ET.ParseError:
        return CheckResult(False, "not_a_feed", {"url": url})
    if _local(root.tag) not in ("rss", "feed", "rdf"):
        return CheckResult(False, "not_a_feed", {"url": url})
    for attributes, value in PODCAST_TXT.findall(text):
        purpose = re.search(r"""purpose\s*=\s*["']([^"']*)["']""", attributes)
        verify = purpose is not None and purpose.group(1).strip().lower() == "verify"
        if verify and _matches(_xml_text(value), expected_hash):
            return CheckResult(True, feed_urls=feed_item_urls(root))
    return CheckResult(False, "podcast_txt_missing", {"url": url})
