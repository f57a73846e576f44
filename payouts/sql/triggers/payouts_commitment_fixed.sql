-- A run commitment is never updated or deleted.
--
-- Set by payouts migrations 0003.

CREATE TRIGGER payouts_commitment_fixed BEFORE DELETE OR UPDATE ON payouts_runcommitment
    FOR EACH ROW
    EXECUTE FUNCTION payouts_commitment_is_fixed();
