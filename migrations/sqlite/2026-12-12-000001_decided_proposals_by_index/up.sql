-- The proposals page lists the latest decided proposals: those no longer pending, newest first,
-- from an index that holds them alone, however many proposals wait. (The pending ones that
-- expired unanswered are read from `proposals_by_status`.)
CREATE INDEX proposals_decided ON proposals (proposed_at, id) WHERE status <> 'pending';
