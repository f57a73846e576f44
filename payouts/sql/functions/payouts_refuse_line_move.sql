-- A supporter line never moves to another run.
--
-- Set by payouts migrations 0009.

CREATE OR REPLACE FUNCTION payouts_refuse_line_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a supporter line cannot move from run % to another run', OLD.run_id
        USING ERRCODE = 'foreign_key_violation';
END $$;
