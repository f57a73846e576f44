-- An account's id never changes (the other half of the postings' foreign key
-- to their account, with ledger_refuse_delete_used_account).
--
-- Set by ledger migrations 0011.

CREATE OR REPLACE FUNCTION ledger_refuse_account_renumber() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_account % cannot change its id', OLD.id
        USING ERRCODE = 'restrict_violation';
END $$;
