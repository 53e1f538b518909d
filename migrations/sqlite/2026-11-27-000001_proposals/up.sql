-- Proposals of the four-eyes principle (docs/four-eyes.md): an operation proposed by one staff
-- user, with the exact preview it will execute, decided by another. A proposal is never
-- deleted; once decided it keeps who decided, when, and what was executed.
CREATE TABLE proposals (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('distribution', 'capital_call', 'manual_entry', 'grant_award', 'grant_rejection', 'waterfall_terms',
        'write_down', 'reversal', 'facility_price')),
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
    -- Nobody approves or rejects what they proposed, whichever node they use.
    CHECK (status NOT IN ('executed', 'rejected') OR (decided_by IS NOT NULL AND decided_by <> proposed_by)),
    CHECK (status <> 'withdrawn' OR decided_by = proposed_by)
);
CREATE INDEX proposals_by_status ON proposals (status, proposed_at);

CREATE TRIGGER proposals_no_delete BEFORE DELETE ON proposals
BEGIN SELECT RAISE(ABORT, 'proposals are never deleted'); END;
CREATE TRIGGER proposals_decided_once BEFORE UPDATE ON proposals
BEGIN SELECT RAISE(ABORT, 'a decided proposal never changes') WHERE OLD.status <> 'pending'; END;
