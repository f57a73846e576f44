-- An account with a balance or postings is never deleted.
--
-- Set by ledger migrations 0002.

CREATE TRIGGER ledger_account_no_delete BEFORE DELETE ON ledger_account
    FOR EACH ROW
    EXECUTE FUNCTION ledger_refuse_delete_used_account();
