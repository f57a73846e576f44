-- The month partitions of buttons_flattr (docs/operations.md, "Flattrs by
-- month"): one per month from the previous one to three ahead, and one for
-- every month whose flattrs fell into the DEFAULT partition (made while no
-- partition existed for it), those rows moved into it. Returns how many
-- partitions it made; a second call makes none. Set by buttons migration
-- 0009.
--
-- A new partition is made apart and attached (ATTACH PARTITION holds SHARE
-- UPDATE EXCLUSIVE on the parent, which lets flattrs be written and read
-- meanwhile; CREATE TABLE ... PARTITION OF would hold ACCESS EXCLUSIVE). The
-- lock is for this transaction only (safe behind PgBouncer in transaction
-- mode); a lock not granted within lock_timeout fails the call, nothing made,
-- and the next day's call makes it, three months early still.
CREATE OR REPLACE FUNCTION buttons_flattr_partitions_ensure() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    first_month date := (date_trunc('month', current_date) - interval '1 month')::date;
    month date;
    name text;
    made integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('buttons_flattr_partitions_ensure'));
    PERFORM set_config('lock_timeout', '10s', true);
    FOR month IN SELECT DISTINCT period FROM buttons_flattr_default ORDER BY period LOOP
        name := 'buttons_flattr_' || to_char(month, 'YYYY_MM');
        EXECUTE format('CREATE TABLE %I (LIKE buttons_flattr INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
        EXECUTE format(
            'WITH moved AS (DELETE FROM buttons_flattr_default WHERE period = $1 RETURNING *)'
            ' INSERT INTO %I SELECT * FROM moved', name) USING month;
        EXECUTE format('ALTER TABLE buttons_flattr ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                       name, month, (month + interval '1 month')::date);
        made := made + 1;
    END LOOP;
    FOR ahead IN 0..4 LOOP
        month := (first_month + make_interval(months => ahead))::date;
        name := 'buttons_flattr_' || to_char(month, 'YYYY_MM');
        IF to_regclass(quote_ident(name)) IS NULL THEN
            EXECUTE format('CREATE TABLE %I (LIKE buttons_flattr INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
            EXECUTE format('ALTER TABLE buttons_flattr ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           name, month, (month + interval '1 month')::date);
            made := made + 1;
        END IF;
    END LOOP;
    RETURN made;
END $$;
