-- ledger_account is never truncated.
--
-- Set by ledger migrations 0007.

CREATE TRIGGER ledger_account_no_truncate BEFORE TRUNCATE ON ledger_account
    FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_refuse_change();
