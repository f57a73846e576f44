"""A supporter line's supporter is checked once per statement.

Like its run (0009): the foreign key checked each of a million supporter
lines at the compute's commit (a query and a row lock on the user each):
3.0 s of commit and 0.3 s of queued checks at 1M, against 0.2 s for one
anti-join per statement. The rule stays in the database:

- an AFTER INSERT statement trigger refuses the statement
  (foreign_key_violation) if a line's supporter is not a user;
- a user with supporter lines cannot be deleted or change its id, and a
  line cannot move to another supporter (row triggers);
- no race between the check and the commit: a transaction that writes
  supporter lines takes an exclusive transaction-level advisory lock
  before checking, and a user's deletion takes it shared before looking
  for lines. A deletion under way makes the writer wait and then find the
  user gone; a writer under way makes the deletion wait and then find its
  lines. (The app never deletes users, it anonymises them, and the ORM's
  PROTECT refuses first; the lock costs a deletion nothing else, and a
  deletion during a compute waits for it.)
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# pg_advisory_xact_lock(int, int): the supporter lines' table and 1, a key
# of its own (the one-bigint form is another key space).
LOCK = "'payouts_supporterline'::regclass::oid::int, 1"

SQL = rf"""
CREATE FUNCTION payouts_check_line_supporters() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK});
    EXECUTE 'SELECT n.supporter_id FROM new_lines n
              WHERE NOT EXISTS (SELECT 1 FROM accounts_user u WHERE u.id = n.supporter_id)
              LIMIT 1' INTO missing;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'payouts_supporterline refers to user %, which does not exist', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER payouts_supporterline_supporter AFTER INSERT ON payouts_supporterline
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION payouts_check_line_supporters();

CREATE FUNCTION payouts_refuse_line_new_supporter() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a supporter line cannot move from supporter % to another', OLD.supporter_id
        USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER payouts_supporterline_supporter_fixed
    BEFORE UPDATE OF supporter_id ON payouts_supporterline
    FOR EACH ROW WHEN (NEW.supporter_id IS DISTINCT FROM OLD.supporter_id)
    EXECUTE FUNCTION payouts_refuse_line_new_supporter();

CREATE FUNCTION payouts_refuse_user_with_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared({LOCK});
    IF EXISTS (SELECT 1 FROM payouts_supporterline WHERE supporter_id = OLD.id) THEN
        RAISE EXCEPTION 'user % still has payout supporter lines', OLD.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER payouts_user_keeps_lines BEFORE DELETE ON accounts_user
    FOR EACH ROW EXECUTE FUNCTION payouts_refuse_user_with_lines();

CREATE TRIGGER payouts_user_keeps_id BEFORE UPDATE OF id ON accounts_user
    FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id)
    EXECUTE FUNCTION payouts_refuse_user_with_lines();
"""

REVERSE = r"""
DROP TRIGGER payouts_user_keeps_id ON accounts_user;
DROP TRIGGER payouts_user_keeps_lines ON accounts_user;
DROP FUNCTION payouts_refuse_user_with_lines();
DROP TRIGGER payouts_supporterline_supporter_fixed ON payouts_supporterline;
DROP FUNCTION payouts_refuse_line_new_supporter();
DROP TRIGGER payouts_supporterline_supporter ON payouts_supporterline;
DROP FUNCTION payouts_check_line_supporters();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0009_supporter_line_run_per_statement"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="supporterline",
            name="supporter",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="supporter",
            ),
        ),
        migrations.RunSQL(SQL, REVERSE),
    ]
