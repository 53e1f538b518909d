-- Rows that are updated but never deleted (the ledger head, a proposal, a grant award) were
-- refused deletion with "<table> is append-only", which they are not: the refusal now names the
-- rule that holds. Rows that are never changed at all keep refuse_change().
CREATE FUNCTION refuse_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a row of % is never deleted', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER ledger_head_not_deleted ON ledger_head;
CREATE TRIGGER ledger_head_not_deleted BEFORE DELETE ON ledger_head
FOR EACH ROW EXECUTE FUNCTION refuse_delete();
DROP TRIGGER proposals_no_delete ON proposals;
CREATE TRIGGER proposals_no_delete BEFORE DELETE ON proposals
FOR EACH ROW EXECUTE FUNCTION refuse_delete();
DROP TRIGGER grant_awards_not_deleted ON grant_awards;
CREATE TRIGGER grant_awards_not_deleted BEFORE DELETE ON grant_awards
FOR EACH ROW EXECUTE FUNCTION refuse_delete();
