"""Money rules enforced by PostgreSQL itself, not only by Python."""

from django.db import migrations

SQL = r"""
-- Postings and transactions are insert-only: a correction is a new,
-- reversing transaction.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are insert-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER ledger_posting_insert_only BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transaction_insert_only BEFORE UPDATE OR DELETE ON ledger_transaction
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

-- Stored balances follow postings, set-based per statement so a bulk
-- INSERT ... SELECT of a million postings updates each account once.
CREATE FUNCTION ledger_apply_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_account a
       SET balance = a.balance + s.total
      FROM (SELECT account_id, sum(amount) AS total
              FROM new_postings GROUP BY account_id) s
     WHERE a.id = s.account_id;
    RETURN NULL;
END $$;

CREATE TRIGGER ledger_posting_balances AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_apply_postings();

-- Balances are written only by the trigger above (depth > 1).
CREATE FUNCTION ledger_guard_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.balance IS DISTINCT FROM OLD.balance AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'ledger_account.balance is derived from postings; post a transaction instead'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.kind IS DISTINCT FROM OLD.kind OR NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        RAISE EXCEPTION 'ledger_account kind and owner cannot change'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_account_guard BEFORE UPDATE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_balance();

CREATE FUNCTION ledger_refuse_delete_used_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.balance <> 0 OR EXISTS (SELECT 1 FROM ledger_posting WHERE account_id = OLD.id) THEN
        RAISE EXCEPTION 'ledger_account % has postings and cannot be deleted', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER ledger_account_no_delete BEFORE DELETE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_delete_used_account();

-- Zero sum, checked at commit. Rows of one transaction are queued together,
-- so the last transaction checked is remembered for the rest of the commit:
-- a transaction of a million postings is summed once, not a million times.
CREATE FUNCTION ledger_check_zero_sum() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total numeric;
    n integer;
BEGIN
    IF current_setting('ledger.checked_transaction', true) = NEW.transaction_id::text THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(amount), 0), count(*) INTO total, n
      FROM ledger_posting WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced: postings sum to %',
            NEW.transaction_id, total USING ERRCODE = 'check_violation';
    END IF;
    IF n < 2 THEN
        RAISE EXCEPTION 'ledger transaction % needs at least two postings', NEW.transaction_id
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM set_config('ledger.checked_transaction', NEW.transaction_id::text, true);
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_posting_zero_sum AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_zero_sum();
"""

REVERSE = r"""
DROP TRIGGER ledger_posting_zero_sum ON ledger_posting;
DROP FUNCTION ledger_check_zero_sum();
DROP TRIGGER ledger_account_no_delete ON ledger_account;
DROP FUNCTION ledger_refuse_delete_used_account();
DROP TRIGGER ledger_account_guard ON ledger_account;
DROP FUNCTION ledger_guard_balance();
DROP TRIGGER ledger_posting_balances ON ledger_posting;
DROP FUNCTION ledger_apply_postings();
DROP TRIGGER ledger_transaction_insert_only ON ledger_transaction;
DROP TRIGGER ledger_posting_insert_only ON ledger_posting;
DROP FUNCTION ledger_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
