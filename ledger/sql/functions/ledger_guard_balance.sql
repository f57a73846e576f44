-- A balance is written only by ledger_apply_postings (its trigger skips this
-- guard: WHEN pg_trigger_depth() = 0); an account's kind and owner never change.
--
-- Set by ledger migrations 0002.

CREATE OR REPLACE FUNCTION ledger_guard_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.balance IS DISTINCT FROM OLD.balance AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'ledger_account.balance is derived from postings; post a transaction instead'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.kind IS DISTINCT FROM OLD.kind OR NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        RAISE EXCEPTION 'ledger_account kind and owner cannot change'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
