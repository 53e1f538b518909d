DROP TRIGGER grant_awards_not_deleted ON grant_awards;
CREATE TRIGGER grant_awards_not_deleted BEFORE DELETE ON grant_awards
FOR EACH ROW EXECUTE FUNCTION refuse_change();
DROP TRIGGER proposals_no_delete ON proposals;
CREATE TRIGGER proposals_no_delete BEFORE DELETE ON proposals
FOR EACH ROW EXECUTE FUNCTION refuse_change();
DROP TRIGGER ledger_head_not_deleted ON ledger_head;
CREATE TRIGGER ledger_head_not_deleted BEFORE DELETE ON ledger_head
FOR EACH ROW EXECUTE FUNCTION refuse_change();
DROP FUNCTION refuse_delete();
