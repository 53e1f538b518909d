-- Daily net change of every account, and of each party's share of it: what the floor rule
-- (docs/ledger.md, "Floors") reads to find an account's balance on every date from a write's
-- date on, in as many rows as the account has days rather than postings. Kept by the write
-- that posts the entries, in its transaction; derived from the postings, which stay the record.
CREATE TABLE account_days (
    account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
    -- '' for the account as a whole, else the posting's party.
    party_key TEXT NOT NULL,
    day DATE NOT NULL,
    net_cents BIGINT NOT NULL,
    PRIMARY KEY (account_id, party_key, day)
);

INSERT INTO account_days (account_id, party_key, day, net_cents)
SELECT p.account_id, '', e.effective_date, SUM(p.amount_cents)
FROM postings p JOIN journal_entries e ON e.id = p.entry_id
GROUP BY p.account_id, e.effective_date;

INSERT INTO account_days (account_id, party_key, day, net_cents)
SELECT p.account_id, p.party_id, e.effective_date, SUM(p.amount_cents)
FROM postings p JOIN journal_entries e ON e.id = p.entry_id
WHERE p.party_id IS NOT NULL AND p.party_id <> ''
GROUP BY p.account_id, p.party_id, e.effective_date;
