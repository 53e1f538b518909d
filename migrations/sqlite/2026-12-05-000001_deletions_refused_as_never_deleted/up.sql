-- The refusal to delete a row that is updated but never deleted says so in the same words as on
-- PostgreSQL (its migration of the same name): the ledger head, a proposal, a grant award.
DROP TRIGGER ledger_head_not_deleted;
CREATE TRIGGER ledger_head_not_deleted BEFORE DELETE ON ledger_head
BEGIN SELECT RAISE(ABORT, 'a row of ledger_head is never deleted'); END;
DROP TRIGGER proposals_no_delete;
CREATE TRIGGER proposals_no_delete BEFORE DELETE ON proposals
BEGIN SELECT RAISE(ABORT, 'a row of proposals is never deleted'); END;
DROP TRIGGER grant_awards_not_deleted;
CREATE TRIGGER grant_awards_not_deleted BEFORE DELETE ON grant_awards
BEGIN SELECT RAISE(ABORT, 'a row of grant_awards is never deleted'); END;
