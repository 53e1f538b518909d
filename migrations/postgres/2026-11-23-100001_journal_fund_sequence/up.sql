-- Exports and the trial balance read a fund's journal in sequence order: keyset pages on
-- (fund_id, sequence) instead of a scan of the fund's entries by date for every page.
CREATE INDEX journal_entries_fund_sequence ON journal_entries (fund_id, sequence);
