"""Static assets of the button whose content versions caches: ``button.js``
and the embed iframe's template. Views and counters both read them, so they
live apart from both."""

import hashlib
from functools import lru_cache
from pathlib import Path

from django.conf import settings

HERE = Path(__file__).resolve().parent
BUTTON_JS = HERE / "static" / "buttons" / "button.js"
EMBED_TEMPLATE = HERE / "templates" / "buttons" / "embed.html"
EMBED_JS = HERE / "static" / "buttons" / "embed.js"


@lru_cache(maxsize=1)
def button_js() -> tuple[bytes, str]:
    """The script's bytes and a short content hash (its version)."""
    body = BUTTON_JS.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


def button_js_version() -> str:
    return button_js()[1]


@lru_cache(maxsize=1)
def embed_template_version() -> str:
    """Part of the cached page's key: a deploy that changes the iframe (its
    template or script) never serves pages rendered by the old one."""
    digest = hashlib.sha256(EMBED_TEMPLATE.read_bytes() + EMBED_JS.read_bytes())
    return digest.hexdigest()[:8]


def snippet(thing, style: str = "default") -> str:
    """The HTML a creator pastes on their site."""
    base = settings.SITE_URL
    style_attr = ' data-flattr-style="compact"' if style == "compact" else ""
    return (
        f'<script async src="{base}/button.js?v={button_js_version()}"></script>\n'
        f'<a class="flattr-button" href="{base}{thing.get_absolute_url()}" '
        f'data-flattr-thing="{thing.pk}"{style_attr}>Flattr</a>'
    )
