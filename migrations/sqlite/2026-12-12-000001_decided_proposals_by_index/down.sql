DROP INDEX proposals_decided;
