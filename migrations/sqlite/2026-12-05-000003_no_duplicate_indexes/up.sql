-- Indexes that repeated the index of a UNIQUE constraint on the same columns: each cost every
-- insert one more index write and served no lookup the constraint's index does not. The
-- legal-name and LEI checks and the one commitment per source and tranche keep their unique
-- indexes (the constraints'), and with them the same plans.
DROP INDEX sources_legal_name;
DROP INDEX sources_lei;
DROP INDEX commitments_tranche_source;
