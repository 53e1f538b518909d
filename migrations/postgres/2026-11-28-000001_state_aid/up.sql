-- State aid as written: calls carry their aid measure reference (SA number), granting
-- authority and whether the GBER Art. 25(6)(b) bonus applies; applications keep the
-- enterprise's identity, NACE code, NUTS 2 region, previous period, GBER declarations, bonus
-- claim and other aid for the same costs (state_aid_json); awards keep what the transparency
-- register needs and every member of the beneficiary's single undertaking, so de minimis aid
-- is counted across linked enterprises whichever of them applied. An SME's profile is kept
-- once and reused by its applications.
ALTER TABLE grant_calls ADD COLUMN aid_measure_reference TEXT;
ALTER TABLE grant_calls ADD COLUMN granting_authority TEXT NOT NULL DEFAULT '';
ALTER TABLE grant_calls ADD COLUMN bonus_allowed BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE grant_calls SET granting_authority = (SELECT f.name FROM funds f WHERE f.id = grant_calls.fund_id);

ALTER TABLE grant_applications ADD COLUMN state_aid_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE grant_applications ADD COLUMN from_profile BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE grant_awards ADD COLUMN registration_number TEXT NOT NULL DEFAULT '';
ALTER TABLE grant_awards ADD COLUMN nace_code TEXT;
ALTER TABLE grant_awards ADD COLUMN nuts2_region TEXT;
UPDATE grant_awards SET registration_number =
    (SELECT a.registration_number FROM grant_applications a WHERE a.id = grant_awards.application_id);

CREATE TABLE award_undertakings (
    award_id TEXT NOT NULL REFERENCES grant_awards(id),
    undertaking_key TEXT NOT NULL,
    PRIMARY KEY (award_id, undertaking_key)
);
CREATE INDEX award_undertakings_key ON award_undertakings (undertaking_key);
INSERT INTO award_undertakings (award_id, undertaking_key) SELECT id, undertaking_key FROM grant_awards;

CREATE TABLE sme_profiles (
    sme_id TEXT PRIMARY KEY NOT NULL,
    profile_json TEXT NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    updated_at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL
);
