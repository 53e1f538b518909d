-- The head may advance over several entries at once (a batch of writes appends them together
-- and moves the head once): every entry it passes over must be there, in sequence, and
-- balance, which is the same check as before, made for each of them.
DROP TRIGGER ledger_head_advances_over_balanced_entries;
CREATE TRIGGER ledger_head_advances_over_balanced_entries BEFORE UPDATE ON ledger_head
BEGIN
    SELECT RAISE(ABORT, 'ledger head must advance over the entries appended, in sequence')
    WHERE NEW.sequence <= OLD.sequence
       OR (SELECT sequence FROM journal_entries WHERE id = NEW.last_entry_id) IS NOT NEW.sequence
       OR (SELECT COUNT(*) FROM journal_entries WHERE sequence > OLD.sequence AND sequence <= NEW.sequence)
          <> NEW.sequence - OLD.sequence;
    -- Driven by the sequence index over the entries passed, each entry's postings by its key
    -- (a GROUP BY here had SQLite scan the whole journal in id order).
    SELECT RAISE(ABORT, 'journal entry does not balance')
    WHERE EXISTS (
        SELECT 1 FROM journal_entries e
        WHERE e.sequence > OLD.sequence AND e.sequence <= NEW.sequence
          AND ((SELECT COUNT(*) FROM postings p WHERE p.entry_id = e.id) < 2
               OR (SELECT COALESCE(SUM(p.amount_cents), 0) FROM postings p WHERE p.entry_id = e.id) <> 0)
    );
END;
