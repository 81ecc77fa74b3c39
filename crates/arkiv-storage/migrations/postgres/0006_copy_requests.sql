-- Requests for a copy: see migrations/sqlite/0006_copy_requests.sql.
CREATE TABLE copy_requests (
    id              BIGSERIAL PRIMARY KEY,
    record_id       BIGINT  NOT NULL,
    doc_pos         BIGINT  NOT NULL,
    requester_email TEXT    NOT NULL,
    requester_name  TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    created         BIGINT  NOT NULL,
    state           TEXT    NOT NULL, -- pending, approved, refused
    decided_by      BIGINT,
    decided_at      BIGINT,
    token_hash      TEXT UNIQUE,
    expires         BIGINT
);
CREATE INDEX copy_requests_by_state ON copy_requests (state, created);
CREATE INDEX copy_requests_by_record ON copy_requests (record_id);
