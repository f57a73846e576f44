"""A supporter line's run is checked once per statement.

The compute writes a million supporter lines in one statement; their
foreign key to the run cost one check (a query and a row lock on the same
run row) per line at commit: about 10 microseconds each, 10 s at 1M. The
rule stays in the database, set-based: an AFTER INSERT statement trigger
refuses the statement (foreign_key_violation) if a line's run does not
exist, and the other half of the foreign key is two row triggers: a run
that still has supporter lines cannot be deleted or change its id, and a
line cannot move to another run. No race between the check and the
commit: the compute holds the run's row lock (SELECT ... FOR UPDATE) until
it commits, so a concurrent delete of the run waits and then finds the
lines. Django's CASCADE deletes a run's lines before the run.
"""

import django.db.models.deletion
from django.db import migrations, models

SQL = r"""
CREATE FUNCTION payouts_check_line_runs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    SELECT n.run_id INTO missing
      FROM new_lines n
     WHERE NOT EXISTS (SELECT 1 FROM payouts_payoutrun r WHERE r.id = n.run_id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payouts_supporterline refers to run %, which does not exist', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER payouts_supporterline_run AFTER INSERT ON payouts_supporterline
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION payouts_check_line_runs();

CREATE FUNCTION payouts_refuse_line_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a supporter line cannot move from run % to another run', OLD.run_id
        USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER payouts_supporterline_run_fixed BEFORE UPDATE OF run_id ON payouts_supporterline
    FOR EACH ROW WHEN (NEW.run_id IS DISTINCT FROM OLD.run_id)
    EXECUTE FUNCTION payouts_refuse_line_move();

CREATE FUNCTION payouts_refuse_run_with_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM payouts_supporterline WHERE run_id = OLD.id) THEN
        RAISE EXCEPTION 'payout run % still has supporter lines', OLD.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER payouts_payoutrun_keeps_lines BEFORE DELETE ON payouts_payoutrun
    FOR EACH ROW EXECUTE FUNCTION payouts_refuse_run_with_lines();
CREATE TRIGGER payouts_payoutrun_keeps_id BEFORE UPDATE OF id ON payouts_payoutrun
    FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id)
    EXECUTE FUNCTION payouts_refuse_run_with_lines();
"""

REVERSE = r"""
DROP TRIGGER payouts_payoutrun_keeps_id ON payouts_payoutrun;
DROP TRIGGER payouts_payoutrun_keeps_lines ON payouts_payoutrun;
DROP FUNCTION payouts_refuse_run_with_lines();
DROP TRIGGER payouts_supporterline_run_fixed ON payouts_supporterline;
DROP FUNCTION payouts_refuse_line_move();
DROP TRIGGER payouts_supporterline_run ON payouts_supporterline;
DROP FUNCTION payouts_check_line_runs();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0008_lines_without_redundant_run_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="supporterline",
            name="run",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="supporter_lines",
                to="payouts.payoutrun",
                verbose_name="run",
            ),
        ),
        migrations.RunSQL(SQL, REVERSE),
    ]
