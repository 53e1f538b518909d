ALTER TABLE facilities DROP COLUMN gpus_per_record_max;
