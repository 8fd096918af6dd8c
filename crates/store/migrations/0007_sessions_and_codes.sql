-- Browser sessions: the cookie holds a random session id (only its SHA-256 is stored), never a
-- bearer token. A session ends when it expires, at logout, or when its account is disabled.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
);
-- Accounts: a disabled one signs in by no means; an enterprise's contacts receive its sign-in codes.
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE users ADD COLUMN mobile TEXT;
ALTER TABLE users ADD COLUMN email TEXT;
-- One-time sign-in codes: the latest per account, hashed. Wrong codes count across codes (a
-- new code does not forgive them) until the account signs in or its lock runs out.
CREATE TABLE sign_in_codes (
    user_name TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL,
    sent_to TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    failures BIGINT NOT NULL,
    used_at TEXT,
    locked_until TEXT,
    -- Codes sent on `codes_day` (UTC date): a daily cap, so one number is not flooded.
    codes_day TEXT,
    codes_sent BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions (user_name);
