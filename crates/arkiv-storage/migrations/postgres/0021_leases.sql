-- Leases (leases.rs): which node runs the jobs that must run on one node
-- at a time. A row per lease: its holder (a node's name) and when it
-- expires unless renewed (seconds since 1970, by the holder's clock).
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at BIGINT NOT NULL
);
