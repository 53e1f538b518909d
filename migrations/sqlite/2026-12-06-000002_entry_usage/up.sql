-- What each usage entry posted, per award: its records, hours and aid, kept with the batch that
-- posts the entry, in the same transaction. The compute-grant attribution reads one row per
-- usage entry instead of every usage record of the fund (docs/scaling.md, "Reads that stay
-- flat"). Records whose hours earned no cent yet name no entry and are not in it.
CREATE TABLE entry_usage (
    entry_id TEXT NOT NULL REFERENCES journal_entries(id),
    award_id TEXT NOT NULL REFERENCES grant_awards(id),
    records BIGINT NOT NULL CHECK (records > 0),
    milli_hours BIGINT NOT NULL CHECK (milli_hours >= 0),
    subsidy_cents BIGINT NOT NULL CHECK (subsidy_cents >= 0),
    PRIMARY KEY (entry_id, award_id)
);
INSERT INTO entry_usage (entry_id, award_id, records, milli_hours, subsidy_cents)
SELECT entry_id, award_id, COUNT(*), SUM(milli_hours), SUM(subsidy_cents)
FROM usage_records
WHERE entry_id IS NOT NULL
GROUP BY entry_id, award_id;
