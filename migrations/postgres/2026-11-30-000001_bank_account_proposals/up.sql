-- A change of a fund's bank account redirects the money investors pay: with four eyes on it is
-- proposed by one admin and approved by another (docs/four-eyes.md); the kind `bank_account`
-- joins the list.
ALTER TABLE proposals DROP CONSTRAINT proposals_kind_check;
ALTER TABLE proposals ADD CONSTRAINT proposals_kind_check CHECK (kind IN ('distribution', 'capital_call', 'manual_entry',
    'grant_award', 'grant_rejection', 'waterfall_terms', 'write_down', 'reversal', 'facility_price', 'user_role',
    'bank_account'));
