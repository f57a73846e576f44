"""Admin helpers shared by the apps: fast lists on large tables."""

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Avoids ``SELECT count(*)`` over a whole large table.

    For an unfiltered list the count comes from PostgreSQL's statistics
    (``pg_class.reltuples``); filtered lists are counted exactly, as they
    use indexes and are small.
    """

    @cached_property
    def count(self):
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where:
            table = self.object_list.model._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
                row = cursor.fetchone()
            if row and row[0] > 10_000:
                return row[0]
        return super().count


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


class UserSearchMixin:
    """Search a large list by its user's exact e-mail or username (indexed),
    or by id; never a ``LIKE '%...%'`` scan."""

    user_search_field = "user"
    search_fields = ["=id"]  # shows the search box; the lookup is ours

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q(**{f"{self.user_search_field}_id__in": user_ids_matching(term)})
        if term.isdigit():
            condition |= Q(pk=int(term))
        return queryset.filter(condition), False


class EuroFieldsMixin:
    """Show cents fields in euros in lists and detail pages.

    ``money_fields`` maps a cents field to its label; each becomes a
    read-only ``<field>_eur`` column (sortable by the field) wherever the
    field would have appeared, so staff never read raw cents."""

    money_fields: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from flattr_site.money import format_cents

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
