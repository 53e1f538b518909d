-- The most GPUs one usage record of the facility may cover (docs/grants.md): a record's
-- GPU-hours never exceed its period's length times this. Existing facilities take their chip
-- count, the physical bound.
ALTER TABLE facilities ADD COLUMN gpus_per_record_max BIGINT NOT NULL DEFAULT 0;
UPDATE facilities SET gpus_per_record_max = chip_count;
