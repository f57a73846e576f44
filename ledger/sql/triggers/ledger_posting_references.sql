-- Each statement that inserts postings refers only to existing transactions.
--
-- Set by ledger migrations 0011.

CREATE TRIGGER ledger_posting_references AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_check_references();
