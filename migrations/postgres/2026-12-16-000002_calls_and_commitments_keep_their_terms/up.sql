-- Tranches, commitments and notices change only where the service moves them: a tranche's
-- running total of commitments, a commitment's amount (amendments) and what was called on it
-- (only growing), what was paid on a notice (only growing). What they were recorded with, the
-- terms NAV and the waterfall read, never changes, and none is deleted.
CREATE FUNCTION refuse_recorded_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% keeps what it was recorded with', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tranches_keep_their_terms
BEFORE UPDATE OF id, fund_id, name, seniority, target_cents, pref_rate, return_cap, first_loss, min_ticket_cents,
    created_at ON tranches
FOR EACH ROW EXECUTE FUNCTION refuse_recorded_change();
CREATE TRIGGER tranches_not_deleted BEFORE DELETE ON tranches
FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TRIGGER commitments_keep_their_parties
BEFORE UPDATE OF id, fund_id, tranche_id, source_id, created_at ON commitments
FOR EACH ROW EXECUTE FUNCTION refuse_recorded_change();
CREATE TRIGGER commitments_called_only_grows BEFORE UPDATE OF called_cents ON commitments
FOR EACH ROW WHEN (NEW.called_cents < OLD.called_cents) EXECUTE FUNCTION refuse_recorded_change();
CREATE TRIGGER commitments_not_deleted BEFORE DELETE ON commitments
FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TRIGGER notices_keep_what_they_ask
BEFORE UPDATE OF id, call_id, commitment_id, source_id, tranche_id, amount_cents, investment_cents, fees_cents,
    expenses_cents, cumulative_called_cents, remaining_unfunded_cents, due_date, created_at ON notices
FOR EACH ROW EXECUTE FUNCTION refuse_recorded_change();
CREATE TRIGGER notices_paid_only_grows BEFORE UPDATE OF paid_cents ON notices
FOR EACH ROW WHEN (NEW.paid_cents < OLD.paid_cents) EXECUTE FUNCTION refuse_recorded_change();
CREATE TRIGGER notices_not_deleted BEFORE DELETE ON notices
FOR EACH ROW EXECUTE FUNCTION refuse_change();
