-- Requests for a copy of a document a visitor may not read: who asked,
-- why, and what the depositor or an editor decided. An approved request
-- carries a download token (stored by its SHA-256) valid until `expires`.
CREATE TABLE copy_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id       INTEGER NOT NULL,
    doc_pos         INTEGER NOT NULL,
    requester_email TEXT    NOT NULL,
    requester_name  TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    created         INTEGER NOT NULL,
    state           TEXT    NOT NULL, -- pending, approved, refused
    decided_by      INTEGER,
    decided_at      INTEGER,
    token_hash      TEXT UNIQUE,
    expires         INTEGER
);
CREATE INDEX copy_requests_by_state ON copy_requests (state, created);
CREATE INDEX copy_requests_by_record ON copy_requests (record_id);
