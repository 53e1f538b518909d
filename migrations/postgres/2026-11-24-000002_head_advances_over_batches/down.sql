CREATE OR REPLACE FUNCTION ledger_head_check() RETURNS trigger AS $$
DECLARE
    posting_count BIGINT;
    posting_sum BIGINT;
    entry_sequence BIGINT;
BEGIN
    SELECT sequence INTO entry_sequence FROM journal_entries WHERE id = NEW.last_entry_id;
    IF NEW.sequence <> OLD.sequence + 1 OR entry_sequence IS DISTINCT FROM NEW.sequence THEN
        RAISE EXCEPTION 'ledger head must advance by exactly one entry' USING ERRCODE = 'check_violation';
    END IF;
    SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) INTO posting_count, posting_sum
    FROM postings WHERE entry_id = NEW.last_entry_id;
    IF posting_count < 2 OR posting_sum <> 0 THEN
        RAISE EXCEPTION 'journal entry does not balance' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
