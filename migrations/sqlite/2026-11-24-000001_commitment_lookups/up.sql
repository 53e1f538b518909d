-- A source commits to a tranche once (amendments change that commitment): the rule the
-- application checks, held by the database too. The index also serves the tranche's total
-- committed, which every new commitment and increase reads to check the tranche target.
CREATE UNIQUE INDEX commitments_tranche_source ON commitments (tranche_id, source_id);
-- Paid-in per commitment, read with every commitment view.
CREATE INDEX notices_commitment ON notices (commitment_id);
