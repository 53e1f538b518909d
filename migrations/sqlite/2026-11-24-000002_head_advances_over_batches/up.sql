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
    SELECT RAISE(ABORT, 'journal entry does not balance')
    WHERE EXISTS (
        SELECT e.id FROM journal_entries e LEFT JOIN postings p ON p.entry_id = e.id
        WHERE e.sequence > OLD.sequence AND e.sequence <= NEW.sequence
        GROUP BY e.id
        HAVING COUNT(p.entry_id) < 2 OR COALESCE(SUM(p.amount_cents), 0) <> 0
    );
END;
