-- What a line was paid beyond what its rule owed: a share of what a capped target could not
-- take, handed on (docs/waterfall.md). paid = owed - shortfall + redistributed, none negative.
ALTER TABLE distribution_lines ADD COLUMN redistributed_cents BIGINT NOT NULL DEFAULT 0 CHECK (redistributed_cents >= 0);
UPDATE distribution_lines SET redistributed_cents = paid_cents - owed_cents WHERE paid_cents > owed_cents;
