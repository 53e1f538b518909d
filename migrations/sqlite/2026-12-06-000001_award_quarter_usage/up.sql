-- A facility's quarterly statement reads its awards' use in the quarter (of each record's period
-- start, UTC, as the capacity figures count it), kept with each usage batch in the same
-- transaction, instead of every record of the facility (docs/scaling.md, "Reads that stay
-- flat"). The quarter key is year * 4 + quarter - 1, as facility_quarter_usage keys it.
CREATE TABLE award_quarter_usage (
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    quarter_key INTEGER NOT NULL,
    award_id TEXT NOT NULL REFERENCES grant_awards(id),
    records BIGINT NOT NULL CHECK (records > 0),
    milli_hours BIGINT NOT NULL CHECK (milli_hours >= 0),
    subsidy_cents BIGINT NOT NULL CHECK (subsidy_cents >= 0),
    PRIMARY KEY (facility_id, quarter_key, award_id)
);
-- The whole second the period starts in, rounded down (`%` keeps the dividend's sign), so no
-- rounding moves a record across a quarter.
INSERT INTO award_quarter_usage (facility_id, quarter_key, award_id, records, milli_hours, subsidy_cents)
SELECT facility_id, quarter_key, award_id, COUNT(*), SUM(milli_hours), SUM(subsidy_cents)
FROM (
    SELECT facility_id, award_id, milli_hours, subsidy_cents,
           CAST(strftime('%Y', started, 'unixepoch') AS INTEGER) * 4
               + (CAST(strftime('%m', started, 'unixepoch') AS INTEGER) - 1) / 3 AS quarter_key
    FROM (
        SELECT facility_id, award_id, milli_hours, subsidy_cents,
               (period_start_us - ((period_start_us % 1000000) + 1000000) % 1000000) / 1000000 AS started
        FROM usage_records
    ) AS dated
) AS keyed
GROUP BY facility_id, quarter_key, award_id;
