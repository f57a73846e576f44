"""Language ids as Flattr used them: moved to ``core.languages`` so pages
below the API (Explore) name them too."""

from core.languages import LANGUAGE_IDS, LANGUAGES, language_name, language_normalise

__all__ = ["LANGUAGES", "LANGUAGE_IDS", "language_name", "language_normalise"]
