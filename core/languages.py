"""Language ids as Flattr used them (``en_GB``); a thing's language is one of
these or empty. The API speaks these ids; pages show their names
(``language_name``). The names' French lives in api's catalogue."""

from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

LANGUAGES = [
    ("en_GB", _("English")),
    ("fr_FR", _("French")),
    ("de_DE", _("German")),
    ("es_ES", _("Spanish")),
    ("it_IT", _("Italian")),
    ("nl_NL", _("Dutch")),
    ("pt_PT", _("Portuguese")),
    ("sv_SE", _("Swedish")),
    ("da_DK", _("Danish")),
    ("nb_NO", _("Norwegian")),
    ("fi_FI", _("Finnish")),
    ("pl_PL", _("Polish")),
    ("cs_CZ", _("Czech")),
    ("sk_SK", _("Slovak")),
    ("hu_HU", _("Hungarian")),
    ("ro_RO", _("Romanian")),
    ("el_GR", _("Greek")),
    ("tr_TR", _("Turkish")),
    ("ru_RU", _("Russian")),
    ("uk_UA", _("Ukrainian")),
    ("ar_DZ", _("Arabic")),
    ("he_IL", _("Hebrew")),
    ("ja_JP", _("Japanese")),
    ("zh_CN", _("Chinese")),
    ("ko_KR", _("Korean")),
    ("sq_AL", _("Albanian")),
    ("be_BY", _("Belarusian")),
    ("eo_EO", _("Esperanto")),
    ("zz_ZZ", _("Other")),
]
LANGUAGE_IDS = {code for code, _label in LANGUAGES}
_BY_LOWER = {code.lower(): code for code in LANGUAGE_IDS}
_BY_PREFIX = {code.split("_")[0]: code for code in reversed([c for c, _label in LANGUAGES])}


def language_normalise(value: str) -> str | None:
    """``en_GB``, ``en-gb`` or ``en`` -> ``en_GB``; None when unknown."""
    text = (value or "").strip().replace("-", "_").lower()
    if not text:
        return ""
    return _BY_LOWER.get(text) or (_BY_PREFIX.get(text) if "_" not in text else None)


_NAMES = dict(LANGUAGES)


def language_name(code: str) -> str:
    """A thing's language for people: ``en_GB``, ``en-gb`` or ``en`` ->
    "English" (in the active language); a code Flattr did not list but
    Django knows (``pt-br``) -> Django's translated name; else the code."""
    known = language_normalise(code)
    if known:
        return str(_NAMES[known])
    try:
        return str(get_language_info(code.strip().replace("_", "-").lower())["name_translated"])
    except KeyError:
        return code
