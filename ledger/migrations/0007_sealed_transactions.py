"""Zero sum, checked and sealed per statement; TRUNCATE refused.

Before: a deferred row trigger summed each transaction at commit and
remembered the last one it checked, so a posting added after an early
``SET CONSTRAINTS ... IMMEDIATE`` was skipped and committed unbalanced.

Now the statement that writes a transaction's postings checks it, over its
transition table, in one pass (a hash aggregate: a million postings are
summed once): every transaction it touches must sum to zero, have at least
two postings, and have no postings from an earlier statement. A transaction
is therefore sealed as soon as its postings exist: more postings for it are
refused, in the same database transaction or any later one. A deferred
trigger on ``ledger_transaction`` refuses, at commit (or at an early
``SET CONSTRAINTS``), a transaction row left without postings, so no empty
transaction can be committed and filled later. ``SET CONSTRAINTS`` has
nothing to skip: the statement check is not deferred.

TRUNCATE (which bypasses row triggers) is refused like UPDATE and DELETE.
A superuser can still truncate deliberately with
``SET session_replication_role = replica`` (the test suite's flush does).

The account row guard is only called for direct UPDATEs (``WHEN``
``pg_trigger_depth() = 0``): the balance trigger's own updates no longer
call a PL/pgSQL function per account.
"""

from django.db import migrations

SQL = r"""
DROP TRIGGER ledger_posting_zero_sum ON ledger_posting;
DROP FUNCTION ledger_check_zero_sum();

CREATE FUNCTION ledger_check_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT s.transaction_id, s.total, s.n,
           (SELECT count(*) FROM ledger_posting p WHERE p.transaction_id = s.transaction_id) AS stored
      INTO bad
      FROM (SELECT transaction_id, sum(amount) AS total, count(*) AS n
              FROM new_postings GROUP BY transaction_id) s
     WHERE s.total <> 0 OR s.n < 2
        OR (SELECT count(*) FROM ledger_posting p WHERE p.transaction_id = s.transaction_id) <> s.n
     ORDER BY s.transaction_id
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF bad.stored <> bad.n THEN
        RAISE EXCEPTION 'ledger transaction % is sealed: it already has % posting(s)',
            bad.transaction_id, bad.stored - bad.n USING ERRCODE = 'check_violation';
    ELSIF bad.total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced: postings sum to %',
            bad.transaction_id, bad.total USING ERRCODE = 'check_violation';
    END IF;
    RAISE EXCEPTION 'ledger transaction % needs at least two postings', bad.transaction_id
        USING ERRCODE = 'check_violation';
END $$;

CREATE TRIGGER ledger_posting_zero_sum AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_statement();

CREATE FUNCTION ledger_check_has_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_posting WHERE transaction_id = NEW.id) THEN
        RAISE EXCEPTION 'ledger transaction % has no postings', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_transaction_has_postings AFTER INSERT ON ledger_transaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_has_postings();

CREATE TRIGGER ledger_posting_no_truncate BEFORE TRUNCATE ON ledger_posting
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transaction_no_truncate BEFORE TRUNCATE ON ledger_transaction
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_account_no_truncate BEFORE TRUNCATE ON ledger_account
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

DROP TRIGGER ledger_account_guard ON ledger_account;
CREATE TRIGGER ledger_account_guard BEFORE UPDATE ON ledger_account
    FOR EACH ROW WHEN (pg_trigger_depth() = 0)
    EXECUTE FUNCTION ledger_guard_balance();
"""

REVERSE = r"""
DROP TRIGGER ledger_account_guard ON ledger_account;
CREATE TRIGGER ledger_account_guard BEFORE UPDATE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_balance();
DROP TRIGGER ledger_account_no_truncate ON ledger_account;
DROP TRIGGER ledger_transaction_no_truncate ON ledger_transaction;
DROP TRIGGER ledger_posting_no_truncate ON ledger_posting;
DROP TRIGGER ledger_transaction_has_postings ON ledger_transaction;
DROP FUNCTION ledger_check_has_postings();
DROP TRIGGER ledger_posting_zero_sum ON ledger_posting;
DROP FUNCTION ledger_check_statement();

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


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_verbose_names")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
