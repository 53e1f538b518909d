DROP INDEX usage_records_award_record;
CREATE INDEX usage_records_award ON usage_records (award_id);
DROP TABLE award_day_usage;
