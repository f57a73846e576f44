"""``iexact`` on e-mail and username as ``LOWER(column) = LOWER(value)``.

Django compiles ``iexact`` to ``UPPER(column) = UPPER(value)`` on PostgreSQL,
which no index serves, so every login, sign-up and profile lookup scanned the
users table. The unique constraints are on ``LOWER(email)`` and
``LOWER(username)``; registering this lookup on those two fields makes every
caller (our selectors, allauth, the admin's search) use them.
"""

from django.db.models import lookups
from django.db.models.functions import Lower


class LowerIExact(lookups.Exact):
    lookup_name = "iexact"

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = compiler.compile(Lower(self.lhs))
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs_sql} = LOWER({rhs_sql})", (*lhs_params, *rhs_params)
