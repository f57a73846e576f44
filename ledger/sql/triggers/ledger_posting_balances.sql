-- Each statement that inserts postings updates the balances of their accounts
-- (and checks that the accounts exist).
--
-- Set by ledger migrations 0002.

CREATE TRIGGER ledger_posting_balances AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_apply_postings();
