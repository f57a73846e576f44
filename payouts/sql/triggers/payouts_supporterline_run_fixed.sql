-- A supporter line keeps its run.
--
-- Set by payouts migrations 0009.

CREATE TRIGGER payouts_supporterline_run_fixed BEFORE UPDATE OF run_id ON payouts_supporterline
    FOR EACH ROW
    WHEN (NEW.run_id IS DISTINCT FROM OLD.run_id)
    EXECUTE FUNCTION payouts_refuse_line_move();
