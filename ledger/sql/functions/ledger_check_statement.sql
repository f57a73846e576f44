-- Zero sum, checked and sealed per statement, over the statement's postings
-- (a hash aggregate: a million postings summed once). Every transaction the
-- statement touches must sum to zero, have at least two postings, and have
-- no postings from an earlier statement (a transaction is sealed as soon as
-- its postings exist). Postings are looked up by transaction with an index
-- scan whatever the statistics say (enable_seqscan off).
--
-- Set by ledger migrations 0007, 0008 (enable_seqscan).

CREATE OR REPLACE FUNCTION ledger_check_statement() RETURNS trigger LANGUAGE plpgsql
    SET enable_seqscan = off
AS $$
DECLARE
    bad record;
BEGIN
    SELECT s.transaction_id, s.total, s.n,
           (SELECT count(*) FROM ledger_posting p WHERE p.transaction_id = s.transaction_id) AS stored
      INTO bad
      FROM (SELECT transaction_id, sum(amount) AS total, count(*) AS n
              FROM new_postings GROUP BY transaction_id) s
     WHERE s.total <> 0 OR s.n < 2
        OR (SELECT count(*) FROM ledger_posting p WHERE p.transaction_id = s.transaction_id) <> s.n
     ORDER BY s.transaction_id
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF bad.stored <> bad.n THEN
        RAISE EXCEPTION 'ledger transaction % is sealed: it already has % posting(s)',
            bad.transaction_id, bad.stored - bad.n USING ERRCODE = 'check_violation';
    ELSIF bad.total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced: postings sum to %',
            bad.transaction_id, bad.total USING ERRCODE = 'check_violation';
    END IF;
    RAISE EXCEPTION 'ledger transaction % needs at least two postings', bad.transaction_id
        USING ERRCODE = 'check_violation';
END $$;
