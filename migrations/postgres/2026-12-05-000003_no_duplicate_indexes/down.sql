CREATE UNIQUE INDEX commitments_tranche_source ON commitments (tranche_id, source_id);
CREATE INDEX sources_legal_name ON sources (legal_name);
CREATE INDEX sources_lei ON sources (lei);
