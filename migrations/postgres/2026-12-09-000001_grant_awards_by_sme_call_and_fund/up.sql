-- An SME's awards (its grants page, the names of parties in the ledger's views), a call's awards
-- (the call's summary and list) and a fund's awards (its compute-grant attribution) were found by
-- reading every award: no index led with any of these columns.
CREATE INDEX grant_awards_sme ON grant_awards (sme_id, award_date);
CREATE INDEX grant_awards_call ON grant_awards (call_id);
CREATE INDEX grant_awards_fund ON grant_awards (fund_id);
