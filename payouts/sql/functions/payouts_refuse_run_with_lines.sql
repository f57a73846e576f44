-- A run that still has supporter lines cannot be deleted or change its id
-- (Django's CASCADE deletes a run's lines first).
--
-- Set by payouts migrations 0009.

CREATE OR REPLACE FUNCTION payouts_refuse_run_with_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM payouts_supporterline WHERE run_id = OLD.id) THEN
        RAISE EXCEPTION 'payout run % still has supporter lines', OLD.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
