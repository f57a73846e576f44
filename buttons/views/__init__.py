"""Button views, one module per concern:

- ``embed``: ``button.js`` and the iframes other sites embed;
- ``counts``: ``count.json`` and the SVG badge;
- ``flattr``: the confirm popup (registered things and auto-submit);
- ``pages``: a thing's page, explore and a creator's own things;
- ``supporter``: a supporter's own flattrs ("My flattrs", undo);
- ``classic``: the original Flattr's load.js, /button/* and old links;
- ``funding``: oEmbed, funding.json and WebFinger
  (``classic`` and ``funding`` are routed by ``buttons/classic_urls.py``).

The names are re-exported here so ``buttons/urls.py`` reads ``views.<name>``.
"""

from buttons.assets import button_js_version, snippet
from buttons.views.counts import badge_svg, count_json
from buttons.views.embed import button_js, embed, embed_auto
from buttons.views.flattr import auto_submit, flattr_confirm
from buttons.views.pages import (
    auto_submit_settings,
    demo_publisher,
    explore,
    my_things,
    thing_accept,
    thing_button,
    thing_delete,
    thing_detail,
    thing_dismiss,
    thing_edit,
    thing_new,
    thing_toggle_hidden,
)
from buttons.views.supporter import flattr_undo, my_flattrs

__all__ = [
    "auto_submit",
    "auto_submit_settings",
    "badge_svg",
    "button_js",
    "button_js_version",
    "count_json",
    "demo_publisher",
    "embed",
    "embed_auto",
    "explore",
    "flattr_confirm",
    "flattr_undo",
    "my_flattrs",
    "my_things",
    "snippet",
    "thing_accept",
    "thing_button",
    "thing_delete",
    "thing_detail",
    "thing_dismiss",
    "thing_edit",
    "thing_new",
    "thing_toggle_hidden",
]
