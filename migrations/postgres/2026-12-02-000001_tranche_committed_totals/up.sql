-- Each tranche keeps the total of its commitments, updated in the same transaction as the
-- commitments it sums: admitting a commitment against the tranche's target reads this one row
-- instead of summing every commitment of the tranche under the writer lock.
ALTER TABLE tranches ADD COLUMN committed_cents BIGINT NOT NULL DEFAULT 0;
UPDATE tranches SET committed_cents = COALESCE(
  (SELECT SUM(c.committed_cents) FROM commitments c WHERE c.tranche_id = tranches.id), 0);
