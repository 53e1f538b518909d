-- Lists read a page at a time in their own order: the proposals newest first, and the public
-- state-aid register by date of granting, newest first, the awards it publishes only (the rule
-- `storage::register::PUBLISHED_SQL` states in the same words). Each order, with the id that
-- breaks its ties, is an index, so a page is a probe and the rows of the page. (The sources
-- page by their unique names' index.)
CREATE INDEX proposals_by_time ON proposals (proposed_at, id);
CREATE INDEX grant_awards_published ON grant_awards (award_date DESC, id)
    WHERE (aid_basis = 'de_minimis' OR aid_value_cents > 10000000);
