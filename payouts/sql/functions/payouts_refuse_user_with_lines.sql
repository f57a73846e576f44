-- A user with supporter lines cannot be deleted or change its id. Takes the
-- advisory lock of payouts_check_line_supporters shared, so a deletion and a
-- write of lines never pass each other.
--
-- Set by payouts migrations 0010.

CREATE OR REPLACE FUNCTION payouts_refuse_user_with_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared('payouts_supporterline'::regclass::oid::int, 1);
    IF EXISTS (SELECT 1 FROM payouts_supporterline WHERE supporter_id = OLD.id) THEN
        RAISE EXCEPTION 'user % still has payout supporter lines', OLD.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
