ALTER TABLE users DROP COLUMN language;
ALTER TABLE funds DROP COLUMN bank_bic;
ALTER TABLE funds DROP COLUMN bank_iban;
ALTER TABLE funds DROP COLUMN bank_account_holder;
