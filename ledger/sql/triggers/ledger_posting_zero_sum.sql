-- Each statement that inserts postings leaves every transaction it touches
-- balanced, with two postings or more, and sealed.
--
-- Set by ledger migrations 0002 (per row, deferred), 0007 (per statement).

CREATE TRIGGER ledger_posting_zero_sum AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_check_statement();
