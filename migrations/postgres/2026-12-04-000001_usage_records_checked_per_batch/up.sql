-- Usage records are checked against what they name once per batch, not once per row
-- (docs/scaling.md, "Usage at COPY speed"). A foreign key checks each inserted row with its own
-- lookup of the parent row; three of them took two thirds of a 10,000-record batch's COPY. One
-- statement-level trigger now checks the whole batch with two set-based lookups, and asks more
-- than the keys did: a record's award must be an award at the record's facility.
ALTER TABLE usage_records DROP CONSTRAINT usage_records_facility_id_fkey;
ALTER TABLE usage_records DROP CONSTRAINT usage_records_award_id_fkey;
ALTER TABLE usage_records DROP CONSTRAINT usage_records_entry_id_fkey;

CREATE FUNCTION usage_records_name_stored_rows() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM (SELECT DISTINCT facility_id, award_id FROM added_records) named
        WHERE NOT EXISTS (
            SELECT 1 FROM grant_awards a WHERE a.id = named.award_id AND a.facility_id = named.facility_id))
    THEN
        RAISE EXCEPTION 'a usage record names an award that is not one of its facility''s'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF EXISTS (
        SELECT 1 FROM (SELECT DISTINCT entry_id FROM added_records WHERE entry_id IS NOT NULL) named
        WHERE NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = named.entry_id))
    THEN
        RAISE EXCEPTION 'a usage record names a journal entry that is not stored'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER usage_records_name_stored_rows AFTER INSERT ON usage_records
REFERENCING NEW TABLE AS added_records
FOR EACH STATEMENT EXECUTE FUNCTION usage_records_name_stored_rows();

-- What the keys also guarded: a named row cannot go away or change its key. Journal entries
-- were append-only already; usage records are now too (a record is the facility's evidence),
-- and an award is never deleted (it ends as completed or expired) nor moved to another facility.
CREATE TRIGGER usage_records_append_only BEFORE UPDATE OR DELETE ON usage_records
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER grant_awards_not_deleted BEFORE DELETE ON grant_awards
FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE FUNCTION grant_award_keeps_its_keys() RETURNS trigger AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.facility_id <> OLD.facility_id THEN
        RAISE EXCEPTION 'a grant award keeps its id and facility' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER grant_awards_keep_their_keys BEFORE UPDATE OF id, facility_id ON grant_awards
FOR EACH ROW EXECUTE FUNCTION grant_award_keeps_its_keys();
