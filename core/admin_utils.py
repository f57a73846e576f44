"""Admin helpers shared by the apps: fast lists on large tables."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from core.http import whole_number
from core.money import format_cents

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.contrib.admin import ModelAdmin
    from django.db.models import Model
    from django.utils.functional import _StrOrPromise as StrOrPromise


class EstimatedCountPaginator(Paginator):
    """Never a ``SELECT count(*)`` over a large table.

    Unfiltered lists take PostgreSQL's statistics (``pg_class.reltuples``),
    filtered ones the planner's row estimate; a list estimated at
    ``estimate_above`` rows or fewer is counted exactly.
    """

    estimate_above = 10_000

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is None:
            return super().count
        with connection.cursor() as cursor:
            if query.where:
                sql, params = self.object_list.values("pk").query.sql_with_params()
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                estimate = int(plan[0]["Plan"]["Plan Rows"])
            else:
                table = self.object_list.model._meta.db_table
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
                row = cursor.fetchone()
                estimate = int(row[0]) if row else 0
        return estimate if estimate > self.estimate_above else super().count


class ReadOnlyAdminMixin:
    """Ledger-style rows: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def user_ids_matching(term: str) -> list[int]:
    """Users whose e-mail or username is ``term``, case-insensitively,
    through the ``lower(email)``/``lower(username)`` unique indexes (Django's
    ``iexact`` compares ``upper()`` and would scan the whole table)."""
    field = "email" if "@" in term else "username"
    return list(
        get_user_model()
        .objects.alias(key=Lower(field))
        .filter(key=term.strip().lower())
        .values_list("pk", flat=True)[:1]
    )


if TYPE_CHECKING:
    _ModelAdmin = ModelAdmin
else:
    _ModelAdmin = object


class LargeTableMixin(_ModelAdmin):
    """Lists of a table that grows without bound: newest first, and no
    exact count of all its rows on every page."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ["-id"]


class IndexedSearchMixin(_ModelAdmin):
    """Exact, indexed searches only: no ``LIKE '%...%'`` over a large table.

    A term naming a user (exact e-mail or username, any case) finds that
    user's rows through ``owner_filter`` (by default ``user_search_field``);
    otherwise ``key_filter`` matches the row's own key exactly (nothing by
    default). A number also matches the id.
    """

    user_search_field = "user"
    search_fields = ["=id"]  # shows the search box; the lookup is ours
    search_help_text = _("Exact e-mail address or username, or an id.")

    def owner_filter(self, user_ids: list[int]) -> Q:
        return Q(**{f"{self.user_search_field}__in": user_ids})

    def key_filter(self, term: str) -> Q:
        return Q(pk__in=[])

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        user_ids = user_ids_matching(term)
        condition = self.owner_filter(user_ids) if user_ids else self.key_filter(term)
        if (pk := whole_number(term)) is not None:
            condition |= Q(pk=pk)
        return queryset.filter(condition), False


def money_column(
    field: str, description: StrOrPromise, *, sortable: bool = False
) -> Callable[[ModelAdmin, Model], str]:
    """A list column showing the cents field ``field`` in euros."""

    @admin.display(description=description, ordering=field if sortable else None)
    def column(self: ModelAdmin, obj: Model) -> str:
        return format_cents(getattr(obj, field))

    return column


class EuroFieldsMixin:
    """Show cents fields in euros in lists and detail pages.

    ``money_fields`` maps a cents field to its label; each becomes a
    read-only ``<field>_eur`` column (sortable by the field) wherever the
    field would have appeared, so staff never read raw cents."""

    money_fields: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in self.money_fields.items():

            def show(obj, _name=name):
                value = getattr(obj, _name)
                return "—" if value is None else format_cents(value)

            show.short_description = label
            show.admin_order_field = name
            setattr(self, f"{name}_eur", show)

    def _euros(self, names):
        return [f"{n}_eur" if n in self.money_fields else n for n in names]

    def get_list_display(self, request):
        return self._euros(super().get_list_display(request))

    def get_fields(self, request, obj=None):
        if self.fields:
            return self._euros(self.fields)
        names = [f.name for f in self.model._meta.fields if f.editable and not f.auto_created]
        return self._euros(names)

    def get_readonly_fields(self, request, obj=None):
        names = list(super().get_readonly_fields(request, obj))
        return self._euros(names) + [f"{n}_eur" for n in self.money_fields]

    def get_exclude(self, request, obj=None):
        return [*(super().get_exclude(request, obj) or []), *self.money_fields]
