-- ledger_transaction is never truncated.
--
-- Set by ledger migrations 0007.

CREATE TRIGGER ledger_transaction_no_truncate BEFORE TRUNCATE ON ledger_transaction
    FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_refuse_change();
