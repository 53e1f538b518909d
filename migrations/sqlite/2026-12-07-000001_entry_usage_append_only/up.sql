-- What a usage entry posted is written once, with the entry, and never changed or deleted, like
-- the records it sums (a correction is a new entry); `investai verify` still sums it again.
CREATE TRIGGER entry_usage_append_only_update BEFORE UPDATE ON entry_usage
BEGIN
    SELECT RAISE(ABORT, 'entry_usage is append-only');
END;
CREATE TRIGGER entry_usage_append_only_delete BEFORE DELETE ON entry_usage
BEGIN
    SELECT RAISE(ABORT, 'entry_usage is append-only');
END;
-- The compute-grant attribution reads a fund's entries through its awards.
CREATE INDEX entry_usage_by_award ON entry_usage (award_id);
