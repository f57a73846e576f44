-- An account that has a balance or postings cannot be deleted.
--
-- Set by ledger migrations 0002.

CREATE OR REPLACE FUNCTION ledger_refuse_delete_used_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.balance <> 0 OR EXISTS (SELECT 1 FROM ledger_posting WHERE account_id = OLD.id) THEN
        RAISE EXCEPTION 'ledger_account % has postings and cannot be deleted', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END $$;
