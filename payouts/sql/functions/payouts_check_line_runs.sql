-- A supporter line's run exists: checked once per statement (the compute
-- writes a million lines in one) instead of a foreign key check per line.
--
-- Set by payouts migrations 0009.

CREATE OR REPLACE FUNCTION payouts_check_line_runs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    SELECT n.run_id INTO missing
      FROM new_lines n
     WHERE NOT EXISTS (SELECT 1 FROM payouts_payoutrun r WHERE r.id = n.run_id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payouts_supporterline refers to run %, which does not exist', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
