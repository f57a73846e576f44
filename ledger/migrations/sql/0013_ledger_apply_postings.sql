CREATE OR REPLACE FUNCTION ledger_apply_postings() RETURNS trigger LANGUAGE plpgsql
    SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
DECLARE
    accounts bigint;
    updated bigint;
    missing bigint;
BEGIN
    UPDATE ledger_account a
       SET balance = a.balance + s.total
      FROM (SELECT account_id, sum(amount) AS total
              FROM new_postings GROUP BY account_id ORDER BY account_id) s
     WHERE a.id = s.account_id;
    GET DIAGNOSTICS updated = ROW_COUNT;
    SELECT count(*) INTO accounts FROM (SELECT DISTINCT account_id FROM new_postings) d;
    IF updated <> accounts THEN
        SELECT n.account_id INTO missing
          FROM new_postings n
         WHERE NOT EXISTS (SELECT 1 FROM ledger_account a WHERE a.id = n.account_id)
         ORDER BY n.account_id
         LIMIT 1;
        RAISE EXCEPTION 'ledger_posting refers to account %, which does not exist',
            missing USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
