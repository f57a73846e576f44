-- A supporter line never moves to another supporter.
--
-- Set by payouts migrations 0010.

CREATE OR REPLACE FUNCTION payouts_refuse_line_new_supporter() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a supporter line cannot move from supporter % to another', OLD.supporter_id
        USING ERRCODE = 'foreign_key_violation';
END $$;
