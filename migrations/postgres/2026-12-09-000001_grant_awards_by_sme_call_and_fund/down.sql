DROP INDEX grant_awards_fund;
DROP INDEX grant_awards_call;
DROP INDEX grant_awards_sme;
