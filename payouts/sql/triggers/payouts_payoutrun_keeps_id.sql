-- A run with supporter lines keeps its id.
--
-- Set by payouts migrations 0009.

CREATE TRIGGER payouts_payoutrun_keeps_id BEFORE UPDATE OF id ON payouts_payoutrun
    FOR EACH ROW
    WHEN (NEW.id IS DISTINCT FROM OLD.id)
    EXECUTE FUNCTION payouts_refuse_run_with_lines();
