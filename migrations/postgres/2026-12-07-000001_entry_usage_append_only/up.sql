-- What a usage entry posted is written once, with the entry, and never changed or deleted, like
-- the records it sums (a correction is a new entry); `investai verify` still sums it again.
CREATE TRIGGER entry_usage_append_only BEFORE UPDATE OR DELETE ON entry_usage
FOR EACH ROW EXECUTE FUNCTION refuse_change();
-- The compute-grant attribution reads a fund's entries through its awards.
CREATE INDEX entry_usage_by_award ON entry_usage (award_id);
