-- Each statement that inserts supporter lines refers only to existing runs.
--
-- Set by payouts migrations 0009.

CREATE TRIGGER payouts_supporterline_run AFTER INSERT ON payouts_supporterline
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT
    EXECUTE FUNCTION payouts_check_line_runs();
