ALTER TABLE tranches DROP COLUMN committed_cents;
