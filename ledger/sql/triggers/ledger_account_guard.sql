-- Direct updates of an account (not the balance trigger's own) may not touch
-- the balance, the kind or the owner.
--
-- Set by ledger migrations 0002, 0007 (WHEN).

CREATE TRIGGER ledger_account_guard BEFORE UPDATE ON ledger_account
    FOR EACH ROW
    WHEN (pg_trigger_depth() = 0)
    EXECUTE FUNCTION ledger_guard_balance();
