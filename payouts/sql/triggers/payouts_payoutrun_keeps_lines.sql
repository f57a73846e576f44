-- A run with supporter lines is not deleted.
--
-- Set by payouts migrations 0009.

CREATE TRIGGER payouts_payoutrun_keeps_lines BEFORE DELETE ON payouts_payoutrun
    FOR EACH ROW
    EXECUTE FUNCTION payouts_refuse_run_with_lines();
