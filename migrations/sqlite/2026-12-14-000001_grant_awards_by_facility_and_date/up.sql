-- A new facility price reads the facility's latest award date under the writer lock: one probe
-- at the end of that facility's awards in date order, however many awards it has.
CREATE INDEX grant_awards_facility_date ON grant_awards (facility_id, award_date);
DROP INDEX grant_awards_facility;
