-- Postings and transactions are insert-only: a correction is a new, reversing
-- transaction. Also refuses TRUNCATE of the three ledger tables (a TRUNCATE
-- skips row triggers).
--
-- Set by ledger migrations 0002, 0007 (TRUNCATE).

CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are insert-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;
