"""Two commitments never chain to one previous root (issue 22, item 6).

Commitments now chain in posting order. Before, a month posted after a
newer one chained to the latest *earlier month*, so some databases hold two
commitments with one previous root (the payout demo made one every time).
Published roots are fixed and cannot be rewritten: the unique index covers
the commitments written from now on (ids above the highest one today).
"""

from django.db import migrations

CREATE = """
DO $$
BEGIN
    EXECUTE format(
        'CREATE UNIQUE INDEX payouts_runcommitment_one_successor'
        ' ON payouts_runcommitment (previous_root) WHERE id > %s',
        (SELECT coalesce(max(id), 0) FROM payouts_runcommitment)
    );
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0010_supporter_line_supporter_per_statement"),
    ]

    operations = [
        migrations.RunSQL(
            sql=CREATE,
            reverse_sql="DROP INDEX IF EXISTS payouts_runcommitment_one_successor;",
        ),
    ]
