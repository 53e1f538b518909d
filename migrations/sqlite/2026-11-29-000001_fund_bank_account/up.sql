-- The account investors pay capital calls into, printed on every call notice. A compartment
-- without one of its own uses its umbrella's.
ALTER TABLE funds ADD COLUMN bank_account_holder TEXT;
ALTER TABLE funds ADD COLUMN bank_iban TEXT;
ALTER TABLE funds ADD COLUMN bank_bic TEXT;
-- A person's language for pages and documents: en, fr or de; none follows the browser.
ALTER TABLE users ADD COLUMN language TEXT;
