-- Fund structure and capital activity: tranches, sources, facilities, commitments (as events),
-- capital calls with per-investor notices, contributions, deployments, proceeds, valuations.

CREATE TABLE tranches (
    id TEXT PRIMARY KEY NOT NULL,
    fund_id TEXT NOT NULL REFERENCES funds(id),
    name TEXT NOT NULL,
    seniority INTEGER NOT NULL CHECK (seniority BETWEEN 1 AND 99),
    target_cents BIGINT NOT NULL CHECK (target_cents > 0),
    pref_rate TEXT NOT NULL,
    return_cap TEXT,
    first_loss INTEGER NOT NULL CHECK (first_loss IN (0, 1)),
    min_ticket_cents BIGINT NOT NULL CHECK (min_ticket_cents >= 0),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (fund_id, seniority),
    UNIQUE (fund_id, name)
);

CREATE TABLE sources (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('eu_programme', 'member_state', 'eib_group', 'private')),
    programme TEXT NOT NULL CHECK (programme IN ('digital_europe', 'horizon_europe', 'investeu', 'cohesion', 'eib', 'private')),
    legal_name TEXT NOT NULL UNIQUE,
    country TEXT NOT NULL,
    lei TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE facilities (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('gigafactory', 'ai_factory')),
    member_state TEXT NOT NULL,
    chip_count BIGINT NOT NULL CHECK (chip_count > 0),
    chip_type TEXT NOT NULL,
    quarterly_capacity_gpu_hours BIGINT NOT NULL CHECK (quarterly_capacity_gpu_hours > 0),
    created_at TIMESTAMP NOT NULL
);

-- Current totals per commitment; every change is also an immutable row in commitment_events.
CREATE TABLE commitments (
    id TEXT PRIMARY KEY NOT NULL,
    fund_id TEXT NOT NULL REFERENCES funds(id),
    tranche_id TEXT NOT NULL REFERENCES tranches(id),
    source_id TEXT NOT NULL REFERENCES sources(id),
    committed_cents BIGINT NOT NULL CHECK (committed_cents >= 0),
    called_cents BIGINT NOT NULL CHECK (called_cents >= 0),
    created_at TIMESTAMP NOT NULL,
    CHECK (called_cents <= committed_cents),
    UNIQUE (tranche_id, source_id)
);
CREATE INDEX commitments_fund ON commitments (fund_id);
CREATE INDEX commitments_source ON commitments (source_id);

CREATE TABLE commitment_events (
    id TEXT PRIMARY KEY NOT NULL,
    commitment_id TEXT NOT NULL REFERENCES commitments(id),
    kind TEXT NOT NULL CHECK (kind IN ('initial', 'increase', 'decrease', 'cancel')),
    amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
    committed_after_cents BIGINT NOT NULL CHECK (committed_after_cents >= 0),
    effective_date DATE NOT NULL,
    oversubscription_allowed INTEGER NOT NULL CHECK (oversubscription_allowed IN (0, 1)),
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX commitment_events_commitment ON commitment_events (commitment_id);

CREATE TABLE capital_calls (
    id TEXT PRIMARY KEY NOT NULL,
    fund_id TEXT NOT NULL REFERENCES funds(id),
    call_number INTEGER NOT NULL CHECK (call_number >= 1),
    call_date DATE NOT NULL,
    due_date DATE NOT NULL,
    description TEXT NOT NULL,
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (due_date >= call_date),
    UNIQUE (fund_id, call_number)
);

CREATE TABLE capital_call_lines (
    call_id TEXT NOT NULL REFERENCES capital_calls(id),
    line INTEGER NOT NULL CHECK (line >= 1),
    tranche_id TEXT NOT NULL REFERENCES tranches(id),
    purpose TEXT NOT NULL CHECK (purpose IN ('investment', 'fees', 'expenses')),
    facility_id TEXT REFERENCES facilities(id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    PRIMARY KEY (call_id, line)
);

CREATE TABLE notices (
    id TEXT PRIMARY KEY NOT NULL,
    call_id TEXT NOT NULL REFERENCES capital_calls(id),
    commitment_id TEXT NOT NULL REFERENCES commitments(id),
    source_id TEXT NOT NULL REFERENCES sources(id),
    tranche_id TEXT NOT NULL REFERENCES tranches(id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    investment_cents BIGINT NOT NULL CHECK (investment_cents >= 0),
    fees_cents BIGINT NOT NULL CHECK (fees_cents >= 0),
    expenses_cents BIGINT NOT NULL CHECK (expenses_cents >= 0),
    paid_cents BIGINT NOT NULL CHECK (paid_cents >= 0),
    cumulative_called_cents BIGINT NOT NULL,
    remaining_unfunded_cents BIGINT NOT NULL CHECK (remaining_unfunded_cents >= 0),
    due_date DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (paid_cents <= amount_cents),
    CHECK (investment_cents + fees_cents + expenses_cents = amount_cents),
    UNIQUE (call_id, commitment_id)
);
CREATE INDEX notices_source ON notices (source_id);

CREATE TABLE contributions (
    id TEXT PRIMARY KEY NOT NULL,
    notice_id TEXT NOT NULL REFERENCES notices(id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    value_date DATE NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX contributions_notice ON contributions (notice_id);

CREATE TABLE deployments (
    id TEXT PRIMARY KEY NOT NULL,
    fund_id TEXT NOT NULL REFERENCES funds(id),
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    kind TEXT NOT NULL CHECK (kind IN ('equity', 'grant')),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    value_date DATE NOT NULL,
    description TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX deployments_fund ON deployments (fund_id);

CREATE TABLE proceeds (
    id TEXT PRIMARY KEY NOT NULL,
    fund_id TEXT NOT NULL REFERENCES funds(id),
    facility_id TEXT REFERENCES facilities(id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    cost_returned_cents BIGINT NOT NULL CHECK (cost_returned_cents >= 0),
    value_date DATE NOT NULL,
    description TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (cost_returned_cents <= amount_cents)
);
CREATE INDEX proceeds_fund ON proceeds (fund_id);

CREATE TABLE valuations (
    id TEXT PRIMARY KEY NOT NULL,
    fund_id TEXT NOT NULL REFERENCES funds(id),
    as_of_date DATE NOT NULL,
    nav_cents BIGINT NOT NULL,
    description TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX valuations_fund_date ON valuations (fund_id, as_of_date);
