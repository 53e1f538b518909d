-- An award is the state-aid record the register publishes and the lapse returns money by: what
-- it was granted with never changes, its lapse is written once, and its use only grows.
CREATE TRIGGER grant_awards_keep_what_they_were_granted_with
BEFORE UPDATE OF application_id, call_id, fund_id, sme_id, undertaking_key, legal_name, country, award_date,
    start_date, end_date, aid_basis, sme_category, intensity_percent, price_cents, awarded_milli_hours,
    aid_value_cents, entry_id, actor, created_at, registration_number, nace_code, nuts2_region ON grant_awards
WHEN NEW.application_id IS NOT OLD.application_id OR NEW.call_id IS NOT OLD.call_id
    OR NEW.fund_id IS NOT OLD.fund_id OR NEW.sme_id IS NOT OLD.sme_id
    OR NEW.undertaking_key IS NOT OLD.undertaking_key OR NEW.legal_name IS NOT OLD.legal_name
    OR NEW.country IS NOT OLD.country OR NEW.award_date IS NOT OLD.award_date
    OR NEW.start_date IS NOT OLD.start_date OR NEW.end_date IS NOT OLD.end_date
    OR NEW.aid_basis IS NOT OLD.aid_basis OR NEW.sme_category IS NOT OLD.sme_category
    OR NEW.intensity_percent IS NOT OLD.intensity_percent OR NEW.price_cents IS NOT OLD.price_cents
    OR NEW.awarded_milli_hours IS NOT OLD.awarded_milli_hours OR NEW.aid_value_cents IS NOT OLD.aid_value_cents
    OR NEW.entry_id IS NOT OLD.entry_id OR NEW.actor IS NOT OLD.actor OR NEW.created_at IS NOT OLD.created_at
    OR NEW.registration_number IS NOT OLD.registration_number OR NEW.nace_code IS NOT OLD.nace_code
    OR NEW.nuts2_region IS NOT OLD.nuts2_region
BEGIN
    SELECT RAISE(ABORT, 'a grant award keeps what it was granted with');
END;
CREATE TRIGGER grant_awards_keep_their_lapse
BEFORE UPDATE OF status, lapsed_milli_hours, returned_cents, lapse_entry_id ON grant_awards
WHEN OLD.lapsed_milli_hours IS NOT NULL AND (NEW.status IS NOT OLD.status
    OR NEW.lapsed_milli_hours IS NOT OLD.lapsed_milli_hours OR NEW.returned_cents IS NOT OLD.returned_cents
    OR NEW.lapse_entry_id IS NOT OLD.lapse_entry_id)
BEGIN
    SELECT RAISE(ABORT, 'a grant award keeps its lapse');
END;
CREATE TRIGGER grant_awards_use_only_grows
BEFORE UPDATE OF used_milli_hours, subsidy_used_cents ON grant_awards
WHEN NEW.used_milli_hours < OLD.used_milli_hours OR NEW.subsidy_used_cents < OLD.subsidy_used_cents
BEGIN
    SELECT RAISE(ABORT, 'a grant award''s use only grows');
END;
