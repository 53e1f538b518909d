DROP INDEX grant_awards_published;
DROP INDEX proposals_by_time;
