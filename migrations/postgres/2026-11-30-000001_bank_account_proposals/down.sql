-- Refused by the CHECK while a bank_account proposal exists.
ALTER TABLE proposals DROP CONSTRAINT proposals_kind_check;
ALTER TABLE proposals ADD CONSTRAINT proposals_kind_check CHECK (kind IN ('distribution', 'capital_call', 'manual_entry',
    'grant_award', 'grant_rejection', 'waterfall_terms', 'write_down', 'reversal', 'facility_price', 'user_role'));
