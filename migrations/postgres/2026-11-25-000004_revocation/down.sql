DROP TABLE user_events;
DROP TABLE revoked_tokens;
ALTER TABLE users DROP COLUMN credentials_version;
