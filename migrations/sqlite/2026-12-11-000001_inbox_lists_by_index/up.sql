-- The inbox's lists, read by index however long the books grow: applications by their status
-- in id order (a page is a probe and its rows), and the notices still unpaid in id order, so the
-- overdue ones are looked for among the unpaid alone, not among every notice ever sent.
CREATE INDEX grant_applications_status ON grant_applications (status, id);
CREATE INDEX notices_unpaid ON notices (id) WHERE paid_cents < amount_cents;
