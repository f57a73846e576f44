-- A user with supporter lines is not deleted.
--
-- Set by payouts migrations 0010.

CREATE TRIGGER payouts_user_keeps_lines BEFORE DELETE ON accounts_user
    FOR EACH ROW
    EXECUTE FUNCTION payouts_refuse_user_with_lines();
