DROP INDEX entry_usage_by_award;
DROP TRIGGER entry_usage_append_only ON entry_usage;
