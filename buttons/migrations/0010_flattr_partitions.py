"""Flattrs are partitioned by month: ``buttons_flattr`` becomes a table
partitioned by RANGE on ``period``, one partition per month and a DEFAULT
partition (docs/operations.md, "Flattrs by month").

The split reads one month (``period = %s``), so PostgreSQL reads that
month's partition only, however many years of history the table holds.
Every unique constraint of a partitioned table holds its partition key: the
primary key becomes ``(id, period)`` and "one flattr per thing per month"
``(supporter_id, thing_id, period)`` as it was. Ids stay unique because one
sequence (``buttons_flattr_id_seq``, its state kept) gives them all and no
foreign key points at a flattr (tests/buttons/test_partitions.py checks
that none appears). Django's model state is unchanged: ``id`` is still the
model's key.

Existing rows are copied into a partition per month they fall in (ids,
sequence and every constraint kept), then indexes and constraints are built
once over the copied rows, which is cheaper than maintaining them row by
row. The months around today are made by ``buttons_flattr_partitions_ensure``
(buttons/sql/functions/), which the beat task ``buttons.tasks
.flattr_partitions_ensure`` calls daily.
"""

from pathlib import Path

from django.db import migrations

ENSURE = (Path(__file__).resolve().parent / "sql" / "0009_buttons_flattr_partitions_ensure.sql").read_text()

# The indexes of the table as 0001-0007 left them (Django's names for the
# foreign keys' and created_at's, the split's covering index).
INDEXES = r"""
CREATE INDEX buttons_flattr_created_at_bcee40ef ON buttons_flattr (created_at);
CREATE INDEX buttons_flattr_supporter_id_40c8aeb5 ON buttons_flattr (supporter_id);
CREATE INDEX buttons_flattr_thing_id_019d9687 ON buttons_flattr (thing_id);
CREATE INDEX flattr_split_covering ON buttons_flattr (period, supporter_id, created_at, id)
    INCLUDE (thing_id);
CREATE INDEX flattr_thing_period ON buttons_flattr (thing_id, period);
"""

# Step 1 (both ways): the old table steps aside and frees its names. Its
# primary key, unique constraints and indexes go (index names are unique in
# a schema, and the copy needs none); its check and foreign-key constraints
# stay, to be copied by name onto the new table.
STEP_ASIDE = r"""
ALTER TABLE buttons_flattr RENAME TO buttons_flattr_{old};
ALTER SEQUENCE buttons_flattr_id_seq RENAME TO buttons_flattr_{old}_id_seq;
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT conname FROM pg_constraint
              WHERE conrelid = 'buttons_flattr_{old}'::regclass AND contype IN ('p', 'u') LOOP
        EXECUTE format('ALTER TABLE buttons_flattr_{old} DROP CONSTRAINT %I', r.conname);
    END LOOP;
    FOR r IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              WHERE i.indrelid = 'buttons_flattr_{old}'::regclass LOOP
        EXECUTE format('DROP INDEX %I', r.relname);
    END LOOP;
END $$;
"""

# Step 3 (both ways): the old table's check and foreign-key constraints,
# same names and definitions, validated once over the copied rows; then the
# old table goes.
CONSTRAINTS_BACK = r"""
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint
              WHERE conrelid = 'buttons_flattr_{old}'::regclass AND contype IN ('c', 'f')
              ORDER BY contype, conname LOOP
        EXECUTE format('ALTER TABLE buttons_flattr ADD CONSTRAINT %I %s', r.conname, r.definition);
    END LOOP;
END $$;
DROP TABLE buttons_flattr_{old} CASCADE;
"""

COLUMNS = "id, period, created_at, supporter_id, thing_id, source"

FORWARD = (
    STEP_ASIDE.format(old="unpartitioned")
    + r"""
CREATE SEQUENCE buttons_flattr_id_seq AS bigint;
SELECT setval('buttons_flattr_id_seq', last_value, is_called)
  FROM buttons_flattr_unpartitioned_id_seq;
CREATE TABLE buttons_flattr (
    id bigint NOT NULL DEFAULT nextval('buttons_flattr_id_seq'),
    period date NOT NULL,
    created_at timestamp with time zone NOT NULL,
    supporter_id bigint NOT NULL,
    thing_id bigint NOT NULL,
    source varchar(16) NOT NULL
) PARTITION BY RANGE (period);
ALTER SEQUENCE buttons_flattr_id_seq OWNED BY buttons_flattr.id;
CREATE TABLE buttons_flattr_default PARTITION OF buttons_flattr DEFAULT;
DO $$
DECLARE month date;
BEGIN
    FOR month IN SELECT DISTINCT period FROM buttons_flattr_unpartitioned ORDER BY period LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF buttons_flattr FOR VALUES FROM (%L) TO (%L)',
                       'buttons_flattr_' || to_char(month, 'YYYY_MM'),
                       month, (month + interval '1 month')::date);
    END LOOP;
END $$;
"""
    + f"""
INSERT INTO buttons_flattr ({COLUMNS})
SELECT {COLUMNS} FROM buttons_flattr_unpartitioned ORDER BY period, supporter_id, created_at, id;
ALTER TABLE buttons_flattr ADD CONSTRAINT buttons_flattr_pkey PRIMARY KEY (id, period);
ALTER TABLE buttons_flattr ADD CONSTRAINT one_flattr_per_thing_per_month
    UNIQUE (supporter_id, thing_id, period);
"""
    + INDEXES
    + CONSTRAINTS_BACK.format(old="unpartitioned")
    + ENSURE
    + "\nSELECT buttons_flattr_partitions_ensure();\nANALYZE buttons_flattr;\n"
)

REVERSE = (
    "DROP FUNCTION buttons_flattr_partitions_ensure();\n"
    + STEP_ASIDE.format(old="partitioned")
    + r"""
CREATE TABLE buttons_flattr (
    id bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY,
    period date NOT NULL,
    created_at timestamp with time zone NOT NULL,
    supporter_id bigint NOT NULL,
    thing_id bigint NOT NULL,
    source varchar(16) NOT NULL
);
SELECT setval(pg_get_serial_sequence('buttons_flattr', 'id'), last_value, is_called)
  FROM buttons_flattr_partitioned_id_seq;
"""
    + f"""
INSERT INTO buttons_flattr ({COLUMNS})
SELECT {COLUMNS} FROM buttons_flattr_partitioned ORDER BY id;
ALTER TABLE buttons_flattr ADD CONSTRAINT buttons_flattr_pkey PRIMARY KEY (id);
ALTER TABLE buttons_flattr ADD CONSTRAINT one_flattr_per_thing_per_month
    UNIQUE (supporter_id, thing_id, period);
"""
    + INDEXES
    + CONSTRAINTS_BACK.format(old="partitioned")
)


class Migration(migrations.Migration):
    dependencies = [("buttons", "0009_flattr_source_likes")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
