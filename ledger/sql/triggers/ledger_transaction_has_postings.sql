-- At commit (or an early SET CONSTRAINTS), every new transaction has postings.
--
-- Set by ledger migrations 0007.

CREATE CONSTRAINT TRIGGER ledger_transaction_has_postings AFTER INSERT ON ledger_transaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION ledger_check_has_postings();
