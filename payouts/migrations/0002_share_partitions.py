"""Shares are partitioned by run: one table per run, filled without indexes.

A run writes millions of shares at once. Maintaining a primary key and an
index row by row during that insert costs three times the insert itself;
building them once afterwards on the run's own table, then attaching it,
does not, and a recompute drops its table instead of deleting millions of
rows. Django's model state is unchanged (``Share`` keeps ``flattr_id`` as
its key; a flattr belongs to one period, so to one run).
"""

from django.db import migrations

SQL = r"""
ALTER INDEX payouts_share_pkey RENAME TO payouts_share_unpartitioned_pkey;
ALTER INDEX share_run_supporter RENAME TO share_run_supporter_unpartitioned;
ALTER TABLE payouts_share RENAME TO payouts_share_unpartitioned;

CREATE TABLE payouts_share (
    flattr_id bigint NOT NULL,
    run_id bigint NOT NULL,
    supporter_id bigint NOT NULL,
    thing_id bigint NOT NULL,
    creator_id bigint NULL,
    amount bigint NOT NULL,
    CONSTRAINT payouts_share_pkey PRIMARY KEY (run_id, flattr_id)
) PARTITION BY LIST (run_id);
CREATE INDEX share_run_supporter ON payouts_share (run_id, supporter_id);

DO $$
DECLARE r bigint;
BEGIN
    FOR r IN SELECT DISTINCT run_id FROM payouts_share_unpartitioned LOOP
        EXECUTE format(
            'CREATE TABLE payouts_share_run_%s PARTITION OF payouts_share FOR VALUES IN (%s)', r, r);
    END LOOP;
END $$;
INSERT INTO payouts_share (flattr_id, run_id, supporter_id, thing_id, creator_id, amount)
SELECT flattr_id, run_id, supporter_id, thing_id, creator_id, amount
  FROM payouts_share_unpartitioned;
DROP TABLE payouts_share_unpartitioned;
"""

REVERSE = r"""
ALTER TABLE payouts_share RENAME TO payouts_share_partitioned;
ALTER INDEX payouts_share_pkey RENAME TO payouts_share_partitioned_pkey;
ALTER INDEX share_run_supporter RENAME TO share_run_supporter_partitioned;
CREATE TABLE payouts_share (
    flattr_id bigint NOT NULL PRIMARY KEY,
    run_id bigint NOT NULL,
    supporter_id bigint NOT NULL,
    thing_id bigint NOT NULL,
    creator_id bigint NULL,
    amount bigint NOT NULL
);
CREATE INDEX share_run_supporter ON payouts_share (run_id, supporter_id);
INSERT INTO payouts_share SELECT flattr_id, run_id, supporter_id, thing_id, creator_id, amount
  FROM payouts_share_partitioned;
DROP TABLE payouts_share_partitioned CASCADE;
"""


class Migration(migrations.Migration):
    dependencies = [("payouts", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
