-- Each statement that inserts supporter lines refers only to existing users.
--
-- Set by payouts migrations 0010.

CREATE TRIGGER payouts_supporterline_supporter AFTER INSERT ON payouts_supporterline
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT
    EXECUTE FUNCTION payouts_check_line_supporters();
