-- A published run commitment (payouts/transparency) is never updated or deleted.
--
-- Set by payouts migrations 0003.

CREATE OR REPLACE FUNCTION payouts_commitment_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a published run commitment is fixed: % refused', TG_OP;
END $$;
