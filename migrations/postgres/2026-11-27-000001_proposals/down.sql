DROP TABLE proposals;
DROP FUNCTION proposals_decided_once;
