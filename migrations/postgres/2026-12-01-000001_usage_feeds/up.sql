-- Which award a facility's Slurm account bills: a Slurm import finds each job's award by its
-- account (docs/usage-feeds.md). Names are kept in lower case, as Slurm keeps them.
CREATE TABLE slurm_accounts (
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    account TEXT NOT NULL CHECK (account = lower(account) AND length(account) BETWEEN 1 AND 64),
    award_id TEXT NOT NULL REFERENCES grant_awards(id),
    set_by TEXT NOT NULL,
    set_at_us BIGINT NOT NULL,
    PRIMARY KEY (facility_id, account)
);
-- Every usage file a facility sent, by page, API or command, with what became of its lines.
CREATE TABLE usage_imports (
    id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    file_format TEXT NOT NULL CHECK (file_format IN ('csv', 'slurm')),
    file_name TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('page', 'api', 'command')),
    lines BIGINT NOT NULL CHECK (lines >= 0),
    counted BIGINT NOT NULL CHECK (counted >= 0),
    replayed BIGINT NOT NULL CHECK (replayed >= 0),
    duplicates BIGINT NOT NULL CHECK (duplicates >= 0),
    refused BIGINT NOT NULL CHECK (refused >= 0),
    skipped BIGINT NOT NULL CHECK (skipped >= 0),
    malformed BIGINT NOT NULL CHECK (malformed >= 0),
    milli_hours BIGINT NOT NULL CHECK (milli_hours >= 0),
    imported_by TEXT NOT NULL,
    imported_at_us BIGINT NOT NULL
);
CREATE INDEX usage_imports_by_facility ON usage_imports (facility_id, imported_at_us);
