-- The records money figures are computed from, beside the journal: the chart of accounts (the
-- chain names accounts by id), the investors (their kind, programme and country), the waterfall
-- terms in force on each date, contributions, deployments, proceeds, valuations, write-downs,
-- distributions and their lines, loss allocations, commitment events, calls and their lines,
-- the members recorded at each award, and facility prices. The service only ever adds them:
-- a change or a deletion is refused here as it is for journal entries.
CREATE TRIGGER ledger_accounts_no_update BEFORE UPDATE ON ledger_accounts
BEGIN
    SELECT RAISE(ABORT, 'ledger_accounts is append-only');
END;
CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts
BEGIN
    SELECT RAISE(ABORT, 'ledger_accounts is append-only');
END;
CREATE TRIGGER sources_no_update BEFORE UPDATE ON sources
BEGIN
    SELECT RAISE(ABORT, 'sources is append-only');
END;
CREATE TRIGGER sources_no_delete BEFORE DELETE ON sources
BEGIN
    SELECT RAISE(ABORT, 'sources is append-only');
END;
CREATE TRIGGER waterfall_terms_no_update BEFORE UPDATE ON waterfall_terms
BEGIN
    SELECT RAISE(ABORT, 'waterfall_terms is append-only');
END;
CREATE TRIGGER waterfall_terms_no_delete BEFORE DELETE ON waterfall_terms
BEGIN
    SELECT RAISE(ABORT, 'waterfall_terms is append-only');
END;
CREATE TRIGGER contributions_no_update BEFORE UPDATE ON contributions
BEGIN
    SELECT RAISE(ABORT, 'contributions is append-only');
END;
CREATE TRIGGER contributions_no_delete BEFORE DELETE ON contributions
BEGIN
    SELECT RAISE(ABORT, 'contributions is append-only');
END;
CREATE TRIGGER deployments_no_update BEFORE UPDATE ON deployments
BEGIN
    SELECT RAISE(ABORT, 'deployments is append-only');
END;
CREATE TRIGGER deployments_no_delete BEFORE DELETE ON deployments
BEGIN
    SELECT RAISE(ABORT, 'deployments is append-only');
END;
CREATE TRIGGER proceeds_no_update BEFORE UPDATE ON proceeds
BEGIN
    SELECT RAISE(ABORT, 'proceeds is append-only');
END;
CREATE TRIGGER proceeds_no_delete BEFORE DELETE ON proceeds
BEGIN
    SELECT RAISE(ABORT, 'proceeds is append-only');
END;
CREATE TRIGGER valuations_no_update BEFORE UPDATE ON valuations
BEGIN
    SELECT RAISE(ABORT, 'valuations is append-only');
END;
CREATE TRIGGER valuations_no_delete BEFORE DELETE ON valuations
BEGIN
    SELECT RAISE(ABORT, 'valuations is append-only');
END;
CREATE TRIGGER write_downs_no_update BEFORE UPDATE ON write_downs
BEGIN
    SELECT RAISE(ABORT, 'write_downs is append-only');
END;
CREATE TRIGGER write_downs_no_delete BEFORE DELETE ON write_downs
BEGIN
    SELECT RAISE(ABORT, 'write_downs is append-only');
END;
CREATE TRIGGER distributions_no_update BEFORE UPDATE ON distributions
BEGIN
    SELECT RAISE(ABORT, 'distributions is append-only');
END;
CREATE TRIGGER distributions_no_delete BEFORE DELETE ON distributions
BEGIN
    SELECT RAISE(ABORT, 'distributions is append-only');
END;
CREATE TRIGGER distribution_lines_no_update BEFORE UPDATE ON distribution_lines
BEGIN
    SELECT RAISE(ABORT, 'distribution_lines is append-only');
END;
CREATE TRIGGER distribution_lines_no_delete BEFORE DELETE ON distribution_lines
BEGIN
    SELECT RAISE(ABORT, 'distribution_lines is append-only');
END;
CREATE TRIGGER loss_allocations_no_update BEFORE UPDATE ON loss_allocations
BEGIN
    SELECT RAISE(ABORT, 'loss_allocations is append-only');
END;
CREATE TRIGGER loss_allocations_no_delete BEFORE DELETE ON loss_allocations
BEGIN
    SELECT RAISE(ABORT, 'loss_allocations is append-only');
END;
CREATE TRIGGER commitment_events_no_update BEFORE UPDATE ON commitment_events
BEGIN
    SELECT RAISE(ABORT, 'commitment_events is append-only');
END;
CREATE TRIGGER commitment_events_no_delete BEFORE DELETE ON commitment_events
BEGIN
    SELECT RAISE(ABORT, 'commitment_events is append-only');
END;
CREATE TRIGGER capital_calls_no_update BEFORE UPDATE ON capital_calls
BEGIN
    SELECT RAISE(ABORT, 'capital_calls is append-only');
END;
CREATE TRIGGER capital_calls_no_delete BEFORE DELETE ON capital_calls
BEGIN
    SELECT RAISE(ABORT, 'capital_calls is append-only');
END;
CREATE TRIGGER capital_call_lines_no_update BEFORE UPDATE ON capital_call_lines
BEGIN
    SELECT RAISE(ABORT, 'capital_call_lines is append-only');
END;
CREATE TRIGGER capital_call_lines_no_delete BEFORE DELETE ON capital_call_lines
BEGIN
    SELECT RAISE(ABORT, 'capital_call_lines is append-only');
END;
CREATE TRIGGER award_undertakings_no_update BEFORE UPDATE ON award_undertakings
BEGIN
    SELECT RAISE(ABORT, 'award_undertakings is append-only');
END;
CREATE TRIGGER award_undertakings_no_delete BEFORE DELETE ON award_undertakings
BEGIN
    SELECT RAISE(ABORT, 'award_undertakings is append-only');
END;
CREATE TRIGGER facility_prices_no_update BEFORE UPDATE ON facility_prices
BEGIN
    SELECT RAISE(ABORT, 'facility_prices is append-only');
END;
CREATE TRIGGER facility_prices_no_delete BEFORE DELETE ON facility_prices
BEGIN
    SELECT RAISE(ABORT, 'facility_prices is append-only');
END;
