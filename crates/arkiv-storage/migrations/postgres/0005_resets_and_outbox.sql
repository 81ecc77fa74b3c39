-- See migrations/sqlite/0005_resets_and_outbox.sql.
CREATE TABLE password_resets (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    created    BIGINT NOT NULL,
    expires    BIGINT NOT NULL
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);

CREATE TABLE outbox (
    id       BIGSERIAL PRIMARY KEY,
    to_addr  TEXT   NOT NULL,
    subject  TEXT   NOT NULL,
    body     TEXT   NOT NULL,
    created  BIGINT NOT NULL,
    sent     BIGINT
);
