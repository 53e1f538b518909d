-- The rules PostgreSQL's migration of the same name adds, kept here with SQLite's own means: its
-- foreign keys stay (each costs little on SQLite), and a record's award must be an award at the
-- record's facility. Usage records are append-only, and a grant award is never deleted nor given
-- another id or facility (docs/scaling.md, "Usage at COPY speed").
CREATE TRIGGER usage_records_award_at_facility BEFORE INSERT ON usage_records
WHEN NOT EXISTS (SELECT 1 FROM grant_awards WHERE id = NEW.award_id AND facility_id = NEW.facility_id)
BEGIN
    SELECT RAISE(ABORT, 'a usage record names an award that is not one of its facility''s');
END;
CREATE TRIGGER usage_records_append_only_update BEFORE UPDATE ON usage_records
BEGIN
    SELECT RAISE(ABORT, 'usage_records is append-only');
END;
CREATE TRIGGER usage_records_append_only_delete BEFORE DELETE ON usage_records
BEGIN
    SELECT RAISE(ABORT, 'usage_records is append-only');
END;
CREATE TRIGGER grant_awards_not_deleted BEFORE DELETE ON grant_awards
BEGIN
    SELECT RAISE(ABORT, 'grant_awards is append-only');
END;
CREATE TRIGGER grant_awards_keep_their_keys BEFORE UPDATE OF id, facility_id ON grant_awards
WHEN NEW.id <> OLD.id OR NEW.facility_id <> OLD.facility_id
BEGIN
    SELECT RAISE(ABORT, 'a grant award keeps its id and facility');
END;
