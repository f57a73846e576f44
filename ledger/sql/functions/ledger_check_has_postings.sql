-- A transaction row left without postings is refused at commit (a deferred
-- constraint trigger), so no empty transaction is committed and filled later.
--
-- Set by ledger migrations 0007, 0008 (enable_seqscan).

CREATE OR REPLACE FUNCTION ledger_check_has_postings() RETURNS trigger LANGUAGE plpgsql
    SET enable_seqscan = off
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_posting WHERE transaction_id = NEW.id) THEN
        RAISE EXCEPTION 'ledger transaction % has no postings', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
