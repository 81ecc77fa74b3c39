-- How far the import of each file got (src/import_progress.rs), keyed by
-- the SHA-256 of the file's bytes. Written in the same transaction as the
-- records each batch of the import commits, so an import killed half-way
-- can be resumed from where its last commit left it. Position: the last
-- <eprint> of the file dealt with; new_ids: records given a new id.
CREATE TABLE import_progress (
    sha256     TEXT    PRIMARY KEY,
    file_name  TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    records    INTEGER NOT NULL,
    new_ids    INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished   INTEGER NOT NULL
);
