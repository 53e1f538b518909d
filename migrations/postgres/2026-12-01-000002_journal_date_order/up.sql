-- The ledger-tool exports (hledger, beancount) read a fund's journal by date, then sequence.
CREATE INDEX journal_entries_fund_date_sequence ON journal_entries (fund_id, effective_date, sequence);
