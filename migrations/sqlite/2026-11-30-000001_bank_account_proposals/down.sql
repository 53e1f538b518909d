-- Back to the kinds before bank account changes; refused by the CHECK while a bank_account
-- proposal exists.
CREATE TABLE proposals_next (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('distribution', 'capital_call', 'manual_entry', 'grant_award', 'grant_rejection', 'waterfall_terms',
        'write_down', 'reversal', 'facility_price', 'user_role')),
    subject_id TEXT NOT NULL,
    request TEXT NOT NULL,
    preview TEXT NOT NULL,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    status TEXT NOT NULL CHECK (status IN ('pending', 'executed', 'rejected', 'withdrawn', 'expired')),
    proposed_by TEXT NOT NULL,
    proposed_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMP,
    reason TEXT,
    result TEXT,
    CHECK (status NOT IN ('executed', 'rejected') OR (decided_by IS NOT NULL AND decided_by <> proposed_by)),
    CHECK (status <> 'withdrawn' OR decided_by = proposed_by)
);
INSERT INTO proposals_next SELECT id, kind, subject_id, request, preview, revision, status, proposed_by, proposed_at,
    expires_at, decided_by, decided_at, reason, result FROM proposals;
DROP TABLE proposals;
ALTER TABLE proposals_next RENAME TO proposals;
CREATE INDEX proposals_by_status ON proposals (status, proposed_at);
CREATE TRIGGER proposals_no_delete BEFORE DELETE ON proposals
BEGIN SELECT RAISE(ABORT, 'proposals are never deleted'); END;
CREATE TRIGGER proposals_decided_once BEFORE UPDATE ON proposals
BEGIN SELECT RAISE(ABORT, 'a decided proposal never changes') WHERE OLD.status <> 'pending'; END;
