-- The head may advance over several entries at once (a batch of writes appends them together
-- and moves the head once): every entry it passes over must be there, in sequence, and
-- balance, which is the same check as before, made for each of them. Each entry is found by
-- its sequence and its postings by their key: lookups on unique keys, which a plan cached by
-- the function (made while the journal was small) still answers from the index; a range
-- condition here was planned as a scan of the whole journal.
CREATE OR REPLACE FUNCTION ledger_head_check() RETURNS trigger AS $$
DECLARE
    passed BIGINT;
    passed_id TEXT;
    posting_count BIGINT;
    posting_sum BIGINT;
    last_sequence BIGINT;
BEGIN
    SELECT sequence INTO last_sequence FROM journal_entries WHERE id = NEW.last_entry_id;
    IF NEW.sequence <= OLD.sequence OR last_sequence IS DISTINCT FROM NEW.sequence THEN
        RAISE EXCEPTION 'ledger head must advance over the entries appended, in sequence'
            USING ERRCODE = 'check_violation';
    END IF;
    FOR passed IN OLD.sequence + 1 .. NEW.sequence LOOP
        SELECT id INTO passed_id FROM journal_entries WHERE sequence = passed;
        IF passed_id IS NULL THEN
            RAISE EXCEPTION 'ledger head must advance over the entries appended, in sequence'
                USING ERRCODE = 'check_violation';
        END IF;
        SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) INTO posting_count, posting_sum
        FROM postings WHERE entry_id = passed_id;
        IF posting_count < 2 OR posting_sum <> 0 THEN
            RAISE EXCEPTION 'journal entry does not balance' USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
