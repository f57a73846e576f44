-- A supporter line's supporter is a user: checked once per statement. The
-- exclusive advisory lock (the lines' table oid, 1) orders the check against
-- a user's deletion, which takes it shared (payouts_refuse_user_with_lines).
--
-- Set by payouts migrations 0010.

CREATE OR REPLACE FUNCTION payouts_check_line_supporters() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    PERFORM pg_advisory_xact_lock('payouts_supporterline'::regclass::oid::int, 1);
    EXECUTE 'SELECT n.supporter_id FROM new_lines n
              WHERE NOT EXISTS (SELECT 1 FROM accounts_user u WHERE u.id = n.supporter_id)
              LIMIT 1' INTO missing;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'payouts_supporterline refers to user %, which does not exist', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
