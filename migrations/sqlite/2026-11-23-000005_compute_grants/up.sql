-- Compute grants: calls funded from a fund's compute-grant pool, SME applications, reviews,
-- awards with the facility capacity they reserve by quarter, and metered usage.
-- GPU-hours are BIGINT thousandths; money is BIGINT cents. The CHECKs below are the last line
-- of defence against overspending: a call never commits above its budget, an award never uses
-- above its hours or posts above its aid value.

CREATE TABLE grant_calls (
    id TEXT PRIMARY KEY NOT NULL,
    fund_id TEXT NOT NULL REFERENCES funds(id),
    name TEXT NOT NULL UNIQUE,
    budget_cents BIGINT NOT NULL CHECK (budget_cents > 0),
    committed_cents BIGINT NOT NULL CHECK (committed_cents >= 0 AND committed_cents <= budget_cents),
    opens_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL CHECK (closes_at > opens_at),
    max_milli_hours_per_award BIGINT NOT NULL CHECK (max_milli_hours_per_award > 0),
    aid_basis TEXT NOT NULL CHECK (aid_basis IN ('de_minimis', 'industrial_research', 'experimental_development')),
    min_reviewers INTEGER NOT NULL CHECK (min_reviewers >= 1),
    min_average_score TEXT NOT NULL,
    entry_id TEXT NOT NULL REFERENCES journal_entries(id),
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE grant_call_facilities (
    call_id TEXT NOT NULL REFERENCES grant_calls(id),
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    PRIMARY KEY (call_id, facility_id)
);

CREATE TABLE grant_applications (
    id TEXT PRIMARY KEY NOT NULL,
    call_id TEXT NOT NULL REFERENCES grant_calls(id),
    sme_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'under_review', 'awarded', 'rejected', 'completed', 'expired')),
    legal_name TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    country TEXT NOT NULL,
    undertaking_key TEXT NOT NULL,
    staff_awu TEXT NOT NULL,
    turnover_cents BIGINT NOT NULL CHECK (turnover_cents >= 0),
    balance_sheet_cents BIGINT NOT NULL CHECK (balance_sheet_cents >= 0),
    related_json TEXT NOT NULL,
    declared_de_minimis_cents BIGINT NOT NULL CHECK (declared_de_minimis_cents >= 0),
    project_title TEXT NOT NULL,
    summary TEXT NOT NULL,
    requested_milli_hours BIGINT NOT NULL CHECK (requested_milli_hours > 0),
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    sme_category TEXT NOT NULL,
    rejection_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP,
    decided_at TIMESTAMP,
    decided_by TEXT
);
CREATE INDEX grant_applications_call ON grant_applications (call_id, status);
CREATE INDEX grant_applications_sme ON grant_applications (sme_id);

CREATE TABLE grant_reviews (
    application_id TEXT NOT NULL REFERENCES grant_applications(id),
    reviewer TEXT NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    comment TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (application_id, reviewer)
);

CREATE TABLE grant_awards (
    id TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL UNIQUE REFERENCES grant_applications(id),
    call_id TEXT NOT NULL REFERENCES grant_calls(id),
    fund_id TEXT NOT NULL REFERENCES funds(id),
    sme_id TEXT NOT NULL,
    undertaking_key TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    country TEXT NOT NULL,
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    award_date DATE NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    aid_basis TEXT NOT NULL,
    sme_category TEXT NOT NULL,
    intensity_percent TEXT NOT NULL,
    price_cents BIGINT NOT NULL CHECK (price_cents > 0),
    awarded_milli_hours BIGINT NOT NULL CHECK (awarded_milli_hours > 0),
    used_milli_hours BIGINT NOT NULL CHECK (used_milli_hours >= 0 AND used_milli_hours <= awarded_milli_hours),
    aid_value_cents BIGINT NOT NULL CHECK (aid_value_cents >= 0),
    subsidy_used_cents BIGINT NOT NULL CHECK (subsidy_used_cents >= 0 AND subsidy_used_cents <= aid_value_cents),
    status TEXT NOT NULL CHECK (status IN ('awarded', 'completed', 'expired')),
    lapsed_milli_hours BIGINT,
    returned_cents BIGINT,
    entry_id TEXT NOT NULL REFERENCES journal_entries(id),
    lapse_entry_id TEXT REFERENCES journal_entries(id),
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX grant_awards_undertaking ON grant_awards (undertaking_key, award_date);
CREATE INDEX grant_awards_facility ON grant_awards (facility_id);
CREATE INDEX grant_awards_end ON grant_awards (status, end_date);

-- Facility capacity an award holds, by quarter (key = year * 4 + quarter - 1).
CREATE TABLE award_capacity (
    award_id TEXT NOT NULL REFERENCES grant_awards(id),
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    quarter_key INTEGER NOT NULL,
    milli_hours BIGINT NOT NULL CHECK (milli_hours >= 0),
    PRIMARY KEY (award_id, quarter_key)
);
CREATE INDEX award_capacity_facility ON award_capacity (facility_id, quarter_key);

-- A facility's record id counts once: the primary key refuses a second copy. Times are
-- microseconds since 1970-01-01 UTC: the table takes 10,000-record batches, and integers are
-- exact and cheaper to write than timestamp text.
CREATE TABLE usage_records (
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    record_id TEXT NOT NULL,
    award_id TEXT NOT NULL REFERENCES grant_awards(id),
    milli_hours BIGINT NOT NULL CHECK (milli_hours > 0),
    period_start_us BIGINT NOT NULL,
    period_end_us BIGINT NOT NULL CHECK (period_end_us >= period_start_us),
    subsidy_cents BIGINT NOT NULL CHECK (subsidy_cents >= 0),
    -- None while the award's hours so far earn less than a cent: nothing to post yet.
    entry_id TEXT REFERENCES journal_entries(id),
    received_at_us BIGINT NOT NULL,
    PRIMARY KEY (facility_id, record_id)
) WITHOUT ROWID;
CREATE INDEX usage_records_award ON usage_records (award_id);

-- Hours used per facility and quarter (of the records' period start), kept with each batch.
CREATE TABLE facility_quarter_usage (
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    quarter_key INTEGER NOT NULL,
    milli_hours BIGINT NOT NULL CHECK (milli_hours >= 0),
    PRIMARY KEY (facility_id, quarter_key)
) WITHOUT ROWID;
