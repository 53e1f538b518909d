-- The records money figures are computed from, beside the journal: the chart of accounts (the
-- chain names accounts by id), the investors (their kind, programme and country), the waterfall
-- terms in force on each date, contributions, deployments, proceeds, valuations, write-downs,
-- distributions and their lines, loss allocations, commitment events, calls and their lines,
-- the members recorded at each award, and facility prices. The service only ever adds them:
-- a change or a deletion is refused here as it is for journal entries.
CREATE TRIGGER ledger_accounts_append_only BEFORE UPDATE OR DELETE ON ledger_accounts
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER sources_append_only BEFORE UPDATE OR DELETE ON sources
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER waterfall_terms_append_only BEFORE UPDATE OR DELETE ON waterfall_terms
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER contributions_append_only BEFORE UPDATE OR DELETE ON contributions
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER deployments_append_only BEFORE UPDATE OR DELETE ON deployments
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER proceeds_append_only BEFORE UPDATE OR DELETE ON proceeds
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER valuations_append_only BEFORE UPDATE OR DELETE ON valuations
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER write_downs_append_only BEFORE UPDATE OR DELETE ON write_downs
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER distributions_append_only BEFORE UPDATE OR DELETE ON distributions
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER distribution_lines_append_only BEFORE UPDATE OR DELETE ON distribution_lines
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER loss_allocations_append_only BEFORE UPDATE OR DELETE ON loss_allocations
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER commitment_events_append_only BEFORE UPDATE OR DELETE ON commitment_events
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER capital_calls_append_only BEFORE UPDATE OR DELETE ON capital_calls
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER capital_call_lines_append_only BEFORE UPDATE OR DELETE ON capital_call_lines
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER award_undertakings_append_only BEFORE UPDATE OR DELETE ON award_undertakings
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER facility_prices_append_only BEFORE UPDATE OR DELETE ON facility_prices
FOR EACH ROW EXECUTE FUNCTION refuse_change();
