-- ledger_transaction rows are never updated or deleted.
--
-- Set by ledger migrations 0002.

CREATE TRIGGER ledger_transaction_insert_only BEFORE DELETE OR UPDATE ON ledger_transaction
    FOR EACH ROW
    EXECUTE FUNCTION ledger_refuse_change();
