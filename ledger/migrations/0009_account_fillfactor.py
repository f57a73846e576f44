"""Room on each page of ledger_account for its rows' next versions.

A balance changes with every posting, and a bulk posting (a payout chunk)
updates tens of thousands of accounts in one statement. With full pages
each update is a new tuple on another page plus a new entry in every index
of the table; with free room on the page it is a heap-only (HOT) update:
no index is touched and the old version is pruned in place. The balance is
in no index, so every balance update can be HOT when the page has room.
Existing pages get the room as they are rewritten (VACUUM FULL or
pg_repack on an existing installation; new rows use it at once).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_typed_references")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE ledger_account SET (fillfactor = 50)",
            "ALTER TABLE ledger_account RESET (fillfactor)",
        )
    ]
