DROP TRIGGER grant_awards_keep_their_keys ON grant_awards;
DROP FUNCTION grant_award_keeps_its_keys();
DROP TRIGGER grant_awards_not_deleted ON grant_awards;
DROP TRIGGER usage_records_append_only ON usage_records;
DROP TRIGGER usage_records_name_stored_rows ON usage_records;
DROP FUNCTION usage_records_name_stored_rows();
ALTER TABLE usage_records ADD CONSTRAINT usage_records_facility_id_fkey
    FOREIGN KEY (facility_id) REFERENCES facilities(id);
ALTER TABLE usage_records ADD CONSTRAINT usage_records_award_id_fkey
    FOREIGN KEY (award_id) REFERENCES grant_awards(id);
ALTER TABLE usage_records ADD CONSTRAINT usage_records_entry_id_fkey
    FOREIGN KEY (entry_id) REFERENCES journal_entries(id);
