-- Files purged from drafts that never went live: see
-- migrations/sqlite/0010_file_purges.sql.
CREATE TABLE file_purges (
    record_id BIGINT NOT NULL,
    sha256    TEXT   NOT NULL,
    filename  TEXT   NOT NULL,
    bytes     BIGINT NOT NULL,
    purged_at BIGINT NOT NULL,
    PRIMARY KEY (record_id, sha256)
);
