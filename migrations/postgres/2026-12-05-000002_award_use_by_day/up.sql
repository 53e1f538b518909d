-- An award's reads stay flat as its records grow (docs/scaling.md, "Reads that stay flat"). Its
-- use by day (of each record's period end, UTC, days since 1970-01-01), kept with each usage
-- batch in the same transaction, so the burn-down reads one row a day of use instead of every
-- record; and its records by record id from one index, so a page of them reads the page.
CREATE TABLE award_day_usage (
    award_id TEXT NOT NULL REFERENCES grant_awards(id),
    day BIGINT NOT NULL,
    milli_hours BIGINT NOT NULL CHECK (milli_hours >= 0),
    subsidy_cents BIGINT NOT NULL CHECK (subsidy_cents >= 0),
    PRIMARY KEY (award_id, day)
);
INSERT INTO award_day_usage (award_id, day, milli_hours, subsidy_cents)
SELECT award_id, period_end_us / 86400000000, SUM(milli_hours), SUM(subsidy_cents)
FROM usage_records
GROUP BY award_id, period_end_us / 86400000000;

DROP INDEX usage_records_award;
CREATE INDEX usage_records_award_record ON usage_records (award_id, record_id);
