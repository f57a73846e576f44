-- A user with supporter lines keeps its id.
--
-- Set by payouts migrations 0010.

CREATE TRIGGER payouts_user_keeps_id BEFORE UPDATE OF id ON accounts_user
    FOR EACH ROW
    WHEN (NEW.id IS DISTINCT FROM OLD.id)
    EXECUTE FUNCTION payouts_refuse_user_with_lines();
