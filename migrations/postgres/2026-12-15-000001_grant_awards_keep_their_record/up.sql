-- An award is the state-aid record the register publishes and the lapse returns money by: what
-- it was granted with never changes, its lapse is written once, and its use only grows.
CREATE FUNCTION grant_award_keeps_its_record() RETURNS trigger AS $$
BEGIN
    IF (NEW.application_id, NEW.call_id, NEW.fund_id, NEW.sme_id, NEW.undertaking_key, NEW.legal_name,
        NEW.country, NEW.award_date, NEW.start_date, NEW.end_date, NEW.aid_basis, NEW.sme_category,
        NEW.intensity_percent, NEW.price_cents, NEW.awarded_milli_hours, NEW.aid_value_cents, NEW.entry_id,
        NEW.actor, NEW.created_at, NEW.registration_number, NEW.nace_code, NEW.nuts2_region)
       IS DISTINCT FROM
       (OLD.application_id, OLD.call_id, OLD.fund_id, OLD.sme_id, OLD.undertaking_key, OLD.legal_name,
        OLD.country, OLD.award_date, OLD.start_date, OLD.end_date, OLD.aid_basis, OLD.sme_category,
        OLD.intensity_percent, OLD.price_cents, OLD.awarded_milli_hours, OLD.aid_value_cents, OLD.entry_id,
        OLD.actor, OLD.created_at, OLD.registration_number, OLD.nace_code, OLD.nuts2_region) THEN
        RAISE EXCEPTION 'a grant award keeps what it was granted with' USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.lapsed_milli_hours IS NOT NULL
       AND (NEW.status, NEW.lapsed_milli_hours, NEW.returned_cents, NEW.lapse_entry_id)
           IS DISTINCT FROM (OLD.status, OLD.lapsed_milli_hours, OLD.returned_cents, OLD.lapse_entry_id) THEN
        RAISE EXCEPTION 'a grant award keeps its lapse' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.used_milli_hours < OLD.used_milli_hours OR NEW.subsidy_used_cents < OLD.subsidy_used_cents THEN
        RAISE EXCEPTION 'a grant award''s use only grows' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER grant_awards_keep_their_record BEFORE UPDATE ON grant_awards
FOR EACH ROW EXECUTE FUNCTION grant_award_keeps_its_record();
