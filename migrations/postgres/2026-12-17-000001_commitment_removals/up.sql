-- The removals (decreases and cancellations) of commitments, by date: a new commitment or an
-- increase dated before a removal of its tranche is checked against the target on every date
-- until that removal (docs/capital-activity.md). Removals are few, so finding whether a tranche
-- has one after a date reads this small index, not the tranche's commitments.
CREATE INDEX commitment_events_removals ON commitment_events (effective_date, commitment_id)
    WHERE kind IN ('decrease', 'cancel');
