-- Password resets: a one-time token (stored by its SHA-256) per request,
-- valid until `expires`. The outbox: every message the repository sends
-- (reset links...), kept whether or not mail went out, so nothing a user
-- is owed is lost when no SMTP server is configured.
CREATE TABLE password_resets (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created    INTEGER NOT NULL,
    expires    INTEGER NOT NULL
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);

CREATE TABLE outbox (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    to_addr  TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    body     TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    sent     INTEGER -- when it went out by SMTP; NULL: only here and in the log
);
