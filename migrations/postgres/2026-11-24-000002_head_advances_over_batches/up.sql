-- The head may advance over several entries at once (a batch of writes appends them together
-- and moves the head once): every entry it passes over must be there, in sequence, and
-- balance, which is the same check as before, made for each of them.
CREATE OR REPLACE FUNCTION ledger_head_check() RETURNS trigger AS $$
DECLARE
    entry_sequence BIGINT;
    entries_passed BIGINT;
    unbalanced BIGINT;
BEGIN
    SELECT sequence INTO entry_sequence FROM journal_entries WHERE id = NEW.last_entry_id;
    SELECT COUNT(*) INTO entries_passed FROM journal_entries
    WHERE sequence > OLD.sequence AND sequence <= NEW.sequence;
    IF NEW.sequence <= OLD.sequence OR entry_sequence IS DISTINCT FROM NEW.sequence
       OR entries_passed <> NEW.sequence - OLD.sequence THEN
        RAISE EXCEPTION 'ledger head must advance over the entries appended, in sequence'
            USING ERRCODE = 'check_violation';
    END IF;
    -- Driven by the sequence index over the entries passed, each entry's postings by its key.
    SELECT COUNT(*) INTO unbalanced FROM journal_entries e
    WHERE e.sequence > OLD.sequence AND e.sequence <= NEW.sequence
      AND ((SELECT COUNT(*) FROM postings p WHERE p.entry_id = e.id) < 2
           OR (SELECT COALESCE(SUM(p.amount_cents), 0) FROM postings p WHERE p.entry_id = e.id) <> 0);
    IF unbalanced > 0 THEN
        RAISE EXCEPTION 'journal entry does not balance' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
