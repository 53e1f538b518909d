CREATE INDEX grant_awards_facility ON grant_awards (facility_id);
DROP INDEX grant_awards_facility_date;
