"""Admin helpers shared by the apps: fast lists on large tables."""

from django.core.paginator import Paginator
from django.db import connection
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
