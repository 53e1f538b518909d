ALTER TABLE distribution_lines DROP COLUMN redistributed_cents;
