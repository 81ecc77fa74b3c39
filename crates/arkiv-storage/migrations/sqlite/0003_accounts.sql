-- Accounts: users, their sessions, and failed logins for throttling.
-- `email_key` is the lower-cased address: one account per mailbox whatever
-- the case it is typed in. `scope` is the editor's scope as JSON.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
    email         TEXT    NOT NULL,
    email_key     TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    scope         TEXT    NOT NULL,
    orcid         TEXT,
    created       INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);

-- A session is found by the SHA-256 of its id: a leaked copy of this table
-- does not let anyone in.
CREATE TABLE sessions (
    id_hash     TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    created     INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    expires     INTEGER NOT NULL,
    csrf_secret TEXT    NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires);

-- One row per failed login; `key` is `account:<email_key>` or
-- `address:<ip>`. Old rows are pruned as new ones come.
CREATE TABLE login_failures (
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);
