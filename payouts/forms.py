"""The Settings → Pass it on form: rows of a target and a percent.

Rows are numbered fields (``target_0``, ``percent_0``, ...), as many as the
page posts, so a list can grow without JavaScript (the page shows the
current rows and a few empty ones). The form only pairs the filled rows;
every rule of a list is ``payouts.onward.onward_set``'s, whose message the
view shows as the form's error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from payouts.rules import ONWARD_MAX_ENTRIES

# Empty rows shown below the list; a posted form is never read past this
# many rows (a list longer than ONWARD_MAX_ENTRIES is refused by the service
# with its own message, so the cap only bounds the work).
EMPTY_ROWS = 3
MAX_ROWS = 200


def posted_rows(data: Mapping[str, Any]) -> int:
    """How many numbered rows ``data`` carries (contiguous from 0)."""
    count = 0
    while count < MAX_ROWS and (f"target_{count}" in data or f"percent_{count}" in data):
        count += 1
    return count


class OnwardForm(forms.Form):
    def __init__(self, *args: Any, rows: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for i in range(rows):
            self.fields[f"target_{i}"] = forms.CharField(
                label=_("Target %(n)d") % {"n": i + 1},
                required=False,
                max_length=2000,
                widget=forms.TextInput(
                    attrs={"placeholder": _("@username, a thing number or an address")}
                ),
            )
            self.fields[f"percent_{i}"] = forms.CharField(
                label=_("Percent %(n)d") % {"n": i + 1},
                required=False,
                max_length=12,
                widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
            )

    def row_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"target_{i}"], self[f"percent_{i}"]) for i in range(self.rows)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        entries: list[tuple[str, str]] = []
        for i in range(self.rows):
            target = (cleaned.get(f"target_{i}") or "").strip()
            percent = (cleaned.get(f"percent_{i}") or "").strip()
            if not target and not percent:
                continue
            if not percent:
                self.add_error(f"percent_{i}", _("Give this target a percent."))
            elif not target:
                self.add_error(f"target_{i}", _("Name a target for this percent."))
            entries.append((target, percent))
        cleaned["entries"] = entries
        return cleaned

    @staticmethod
    def initial_rows(labels: list[tuple[str, int]]) -> tuple[dict[str, Any], int]:
        """The initial values and row count for a saved list: its rows and
        ``EMPTY_ROWS`` empty ones, at most ``ONWARD_MAX_ENTRIES`` rows in all
        (but never fewer than the list has)."""
        rows = max(len(labels), min(len(labels) + EMPTY_ROWS, ONWARD_MAX_ENTRIES))
        initial: dict[str, Any] = {}
        for i, (target, percent) in enumerate(labels):
            initial[f"target_{i}"] = target
            initial[f"percent_{i}"] = str(percent)
        return initial, rows
