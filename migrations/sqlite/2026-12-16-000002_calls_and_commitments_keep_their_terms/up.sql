-- Tranches, commitments and notices change only where the service moves them: a tranche's
-- running total of commitments, a commitment's amount (amendments) and what was called on it
-- (only growing), what was paid on a notice (only growing). What they were recorded with, the
-- terms NAV and the waterfall read, never changes, and none is deleted.
CREATE TRIGGER tranches_keep_their_terms
BEFORE UPDATE OF id, fund_id, name, seniority, target_cents, pref_rate, return_cap, first_loss, min_ticket_cents,
    created_at ON tranches
BEGIN
    SELECT RAISE(ABORT, 'tranches keeps what it was recorded with');
END;
CREATE TRIGGER tranches_not_deleted BEFORE DELETE ON tranches
BEGIN
    SELECT RAISE(ABORT, 'tranches is append-only');
END;
CREATE TRIGGER commitments_keep_their_parties
BEFORE UPDATE OF id, fund_id, tranche_id, source_id, created_at ON commitments
BEGIN
    SELECT RAISE(ABORT, 'commitments keeps what it was recorded with');
END;
CREATE TRIGGER commitments_called_only_grows BEFORE UPDATE OF called_cents ON commitments
WHEN NEW.called_cents < OLD.called_cents
BEGIN
    SELECT RAISE(ABORT, 'commitments keeps what it was recorded with');
END;
CREATE TRIGGER commitments_not_deleted BEFORE DELETE ON commitments
BEGIN
    SELECT RAISE(ABORT, 'commitments is append-only');
END;
CREATE TRIGGER notices_keep_what_they_ask
BEFORE UPDATE OF id, call_id, commitment_id, source_id, tranche_id, amount_cents, investment_cents, fees_cents,
    expenses_cents, cumulative_called_cents, remaining_unfunded_cents, due_date, created_at ON notices
BEGIN
    SELECT RAISE(ABORT, 'notices keeps what it was recorded with');
END;
CREATE TRIGGER notices_paid_only_grows BEFORE UPDATE OF paid_cents ON notices
WHEN NEW.paid_cents < OLD.paid_cents
BEGIN
    SELECT RAISE(ABORT, 'notices keeps what it was recorded with');
END;
CREATE TRIGGER notices_not_deleted BEFORE DELETE ON notices
BEGIN
    SELECT RAISE(ABORT, 'notices is append-only');
END;
