DROP INDEX notices_commitment;
DROP INDEX commitments_tranche_source;
