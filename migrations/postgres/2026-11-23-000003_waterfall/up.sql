-- Waterfall terms (versioned per fund), executed distributions with every line of their
-- allocation, and write-downs with their allocation to investor positions.

CREATE TABLE waterfall_terms (
    id TEXT PRIMARY KEY,
    fund_id TEXT NOT NULL REFERENCES funds(id),
    version INTEGER NOT NULL CHECK (version >= 1),
    terms TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (fund_id, version)
);

CREATE TABLE distributions (
    id TEXT PRIMARY KEY,
    fund_id TEXT NOT NULL REFERENCES funds(id),
    distribution_date DATE NOT NULL,
    cash_cents BIGINT NOT NULL CHECK (cash_cents > 0),
    distributed_cents BIGINT NOT NULL CHECK (distributed_cents >= 0),
    remaining_cents BIGINT NOT NULL CHECK (remaining_cents >= 0),
    terms_version INTEGER NOT NULL,
    allocation TEXT NOT NULL,
    description TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (distributed_cents + remaining_cents = cash_cents)
);
CREATE INDEX distributions_fund_date ON distributions (fund_id, distribution_date);

CREATE TABLE distribution_lines (
    distribution_id TEXT NOT NULL REFERENCES distributions(id),
    line INTEGER NOT NULL CHECK (line >= 1),
    step_index INTEGER NOT NULL,
    step_kind TEXT NOT NULL CHECK (step_kind IN ('fee', 'pref', 'capital', 'reserve', 'catch_up', 'split')),
    target_kind TEXT NOT NULL CHECK (target_kind IN ('tranche', 'account')),
    target TEXT NOT NULL,
    commitment_id TEXT REFERENCES commitments(id),
    source_id TEXT REFERENCES sources(id),
    owed_cents BIGINT NOT NULL CHECK (owed_cents >= 0),
    paid_cents BIGINT NOT NULL CHECK (paid_cents >= 0),
    shortfall_cents BIGINT NOT NULL CHECK (shortfall_cents >= 0),
    rule TEXT NOT NULL,
    PRIMARY KEY (distribution_id, line)
);
CREATE INDEX distribution_lines_commitment ON distribution_lines (commitment_id);

CREATE TABLE write_downs (
    id TEXT PRIMARY KEY,
    fund_id TEXT NOT NULL REFERENCES funds(id),
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    value_date DATE NOT NULL,
    description TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE loss_allocations (
    write_down_id TEXT NOT NULL REFERENCES write_downs(id),
    commitment_id TEXT NOT NULL REFERENCES commitments(id),
    tranche_id TEXT NOT NULL REFERENCES tranches(id),
    source_id TEXT NOT NULL REFERENCES sources(id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    PRIMARY KEY (write_down_id, commitment_id)
);
CREATE INDEX loss_allocations_commitment ON loss_allocations (commitment_id);
