-- A supporter line keeps its supporter.
--
-- Set by payouts migrations 0010.

CREATE TRIGGER payouts_supporterline_supporter_fixed BEFORE UPDATE OF supporter_id ON payouts_supporterline
    FOR EACH ROW
    WHEN (NEW.supporter_id IS DISTINCT FROM OLD.supporter_id)
    EXECUTE FUNCTION payouts_refuse_line_new_supporter();
