-- List prices of facilities per GPU-hour, versioned by effective date (an award keeps the price
-- in force on its award date).

CREATE TABLE facility_prices (
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    effective_date DATE NOT NULL,
    price_cents BIGINT NOT NULL CHECK (price_cents > 0),
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (facility_id, effective_date)
);
