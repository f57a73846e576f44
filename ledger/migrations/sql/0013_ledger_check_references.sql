CREATE OR REPLACE FUNCTION ledger_check_references() RETURNS trigger LANGUAGE plpgsql
    SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
DECLARE
    missing bigint;
BEGIN
    -- Accounts are checked by ledger_apply_postings, which updates each one.
    EXECUTE 'SELECT n.transaction_id
               FROM (SELECT DISTINCT transaction_id FROM new_postings) n
              WHERE NOT EXISTS (SELECT 1 FROM ledger_transaction t WHERE t.id = n.transaction_id)
              LIMIT 1' INTO missing;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'ledger_posting refers to transaction %, which does not exist',
            missing USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
