DROP TRIGGER ledger_head_advances_over_balanced_entries;
CREATE TRIGGER ledger_head_advances_over_balanced_entries BEFORE UPDATE ON ledger_head
BEGIN
    SELECT RAISE(ABORT, 'ledger head must advance by exactly one entry')
    WHERE NEW.sequence <> OLD.sequence + 1
       OR (SELECT sequence FROM journal_entries WHERE id = NEW.last_entry_id) IS NOT NEW.sequence;
    SELECT RAISE(ABORT, 'journal entry does not balance')
    WHERE (SELECT COUNT(*) FROM postings WHERE entry_id = NEW.last_entry_id) < 2
       OR (SELECT COALESCE(SUM(amount_cents), 0) FROM postings WHERE entry_id = NEW.last_entry_id) <> 0;
END;
