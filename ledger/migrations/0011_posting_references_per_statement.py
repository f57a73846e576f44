"""A posting's transaction and account are checked once per statement.

A foreign key checks each posting on its own at commit (a query and a row
lock per reference): two per posting, about 10 microseconds each, a fifth
of a monthly payout's posting at a million supporters. The rule stays in
the database, checked set-based: an AFTER INSERT statement trigger looks
every new posting's transaction and account up in one anti-join and
refuses the statement (foreign_key_violation) if one is missing, like the
zero-sum check beside it. The other half of a foreign key, that a
referenced row cannot go away, was already there: transactions are
insert-only (0002, 0007), an account with postings cannot be deleted
(0002), and now no account's id can change either. No race between the
check and the commit: the balance trigger (which runs first) updates, and
so locks, every account the statement posts to, so a concurrent delete
either commits first (the check then finds the account gone) or waits and
then finds the postings. The account's own
index goes too: posting_account_newest (account, -id) serves every lookup
by account.
"""

import django.db.models.deletion
from django.db import migrations, models

SQL = r"""
CREATE FUNCTION ledger_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.transaction_id, n.account_id,
           EXISTS (SELECT 1 FROM ledger_transaction t WHERE t.id = n.transaction_id) AS has_txn
      INTO bad
      FROM new_postings n
     WHERE NOT EXISTS (SELECT 1 FROM ledger_transaction t WHERE t.id = n.transaction_id)
        OR NOT EXISTS (SELECT 1 FROM ledger_account a WHERE a.id = n.account_id)
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF NOT bad.has_txn THEN
        RAISE EXCEPTION 'ledger_posting refers to transaction %, which does not exist',
            bad.transaction_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RAISE EXCEPTION 'ledger_posting refers to account %, which does not exist',
        bad.account_id USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER ledger_posting_references AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_references();

CREATE FUNCTION ledger_refuse_account_renumber() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_account % cannot change its id', OLD.id
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER ledger_account_no_renumber BEFORE UPDATE OF id ON ledger_account
    FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id)
    EXECUTE FUNCTION ledger_refuse_account_renumber();
"""

REVERSE = r"""
DROP TRIGGER ledger_account_no_renumber ON ledger_account;
DROP FUNCTION ledger_refuse_account_renumber();
DROP TRIGGER ledger_posting_references ON ledger_posting;
DROP FUNCTION ledger_check_references();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0010_verbose_names"),
    ]

    operations = [
        migrations.AlterField(
            model_name="posting",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="postings",
                to="ledger.account",
                verbose_name="account",
            ),
        ),
        migrations.AlterField(
            model_name="posting",
            name="transaction",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="postings",
                to="ledger.transaction",
                verbose_name="transaction",
            ),
        ),
        migrations.RunSQL(SQL, REVERSE),
    ]
