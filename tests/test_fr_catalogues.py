"""The French catalogues speak one vocabulary.

Django merges every app's catalogue and the project's: when two catalogues
translate one msgid differently, only one wins (by app order), and the
sentences of the losing app use the other word. So one msgid has one
French translation everywhere, and the words chosen for the site's concepts
(a thing is a "création", a claim is "revendiquer") are used in every
sentence.
"""

import gettext
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CATALOGUES = sorted(ROOT.glob("*/locale/fr/LC_MESSAGES/django.mo")) + [
    ROOT / "locale/fr/LC_MESSAGES/django.mo"
]


def _catalogue(path: Path) -> dict[object, str]:
    with path.open("rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    return {k: v for k, v in catalog.items() if k != ""}


def test_every_catalogue_is_there():
    assert len(CATALOGUES) >= 10
    assert all(path.exists() for path in CATALOGUES)


def test_one_translation_per_msgid_across_catalogues():
    seen: dict[object, dict[str, str]] = {}
    for path in CATALOGUES:
        where = str(path.relative_to(ROOT)).split("/locale/")[0]
        for msgid, msgstr in _catalogue(path).items():
            seen.setdefault(msgid, {})[where] = msgstr
    different = {msgid: by_app for msgid, by_app in seen.items() if len(set(by_app.values())) > 1}
    assert different == {}


def test_the_site_words_are_used_in_every_sentence():
    # "chose" for a thing, "réclamer" for a claim: the old words.
    old = re.compile(r"(?<!autre )(?<!quelque )\bchoses?\b|\bréclam", re.IGNORECASE)
    found = [
        (str(path.relative_to(ROOT)), msgstr)
        for path in CATALOGUES
        for msgstr in _catalogue(path).values()
        if old.search(msgstr)
    ]
    assert found == []


def test_the_project_catalogue_has_no_untranslated_entry():
    po = (ROOT / "locale/fr/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]  # the first is the header
    empty = re.compile(r'^msgstr(\[\d+\])? ""$(?!\n")', re.MULTILINE)
    untranslated = [e for e in entries if empty.search(e)]
    assert untranslated == []
