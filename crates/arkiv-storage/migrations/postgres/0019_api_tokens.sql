-- Personal API tokens: what a script or a research-information system
-- sends as `Authorization: Bearer` to act as the user who made it. Only
-- the SHA-256 (hex) of the token is kept: it is shown once, when made.
-- scopes: the space-separated subset of read, deposit, edit, admin it may
-- use (never more than its user's role allows). expires: Unix seconds;
-- revoked: when its user (or an admin) ended it, else NULL; last_used is
-- moved on at most once a minute.
CREATE TABLE api_tokens (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT  NOT NULL,
    name       TEXT    NOT NULL,
    token_hash TEXT    NOT NULL UNIQUE,
    scopes     TEXT    NOT NULL,
    created    BIGINT  NOT NULL,
    expires    BIGINT  NOT NULL,
    last_used  BIGINT,
    revoked    BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, id);
