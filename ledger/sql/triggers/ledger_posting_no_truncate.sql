-- ledger_posting is never truncated (a superuser can, deliberately, as a
-- replica session: the test suite's flush does).
--
-- Set by ledger migrations 0007.

CREATE TRIGGER ledger_posting_no_truncate BEFORE TRUNCATE ON ledger_posting
    FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_refuse_change();
