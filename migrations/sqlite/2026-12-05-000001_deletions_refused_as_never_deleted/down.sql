DROP TRIGGER grant_awards_not_deleted;
CREATE TRIGGER grant_awards_not_deleted BEFORE DELETE ON grant_awards
BEGIN SELECT RAISE(ABORT, 'grant_awards is append-only'); END;
DROP TRIGGER proposals_no_delete;
CREATE TRIGGER proposals_no_delete BEFORE DELETE ON proposals
BEGIN SELECT RAISE(ABORT, 'proposals are never deleted'); END;
DROP TRIGGER ledger_head_not_deleted;
CREATE TRIGGER ledger_head_not_deleted BEFORE DELETE ON ledger_head
BEGIN SELECT RAISE(ABORT, 'the ledger head cannot be deleted'); END;
