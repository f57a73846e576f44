-- An account's id never changes.
--
-- Set by ledger migrations 0011.

CREATE TRIGGER ledger_account_no_renumber BEFORE UPDATE OF id ON ledger_account
    FOR EACH ROW
    WHEN (NEW.id IS DISTINCT FROM OLD.id)
    EXECUTE FUNCTION ledger_refuse_account_renumber();
