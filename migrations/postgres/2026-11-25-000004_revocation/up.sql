-- Revocation (docs/security.md, "Sessions and revocation"). A token names its user and the
-- user's credentials version; disabling a user, resetting a password or changing a role moves
-- the version on, and every token minted before stops working.
ALTER TABLE users ADD COLUMN credentials_version BIGINT NOT NULL DEFAULT 0;

-- Tokens ended by sign-out, kept until they would have expired anyway.
CREATE TABLE revoked_tokens (
    token_id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP NOT NULL
);
CREATE INDEX revoked_tokens_by_user ON revoked_tokens (username, expires_at);

-- What administrators did to accounts, and who did it.
CREATE TABLE user_events (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    action TEXT NOT NULL CHECK (action IN ('created', 'disabled', 'enabled', 'password_reset', 'role_changed')),
    detail TEXT NOT NULL,
    actor TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX user_events_by_user ON user_events (user_id, id);

-- Accounts that exist already: their creation, by whoever set the service up.
INSERT INTO user_events (id, user_id, action, detail, actor, recorded_at)
SELECT id, id, 'created', 'role ' || role, 'system:migration', created_at FROM users;
