-- See migrations/sqlite/0011_import_progress.sql.
CREATE TABLE import_progress (
    sha256     TEXT    PRIMARY KEY,
    file_name  TEXT    NOT NULL,
    position   BIGINT  NOT NULL,
    records    BIGINT  NOT NULL,
    new_ids    BIGINT  NOT NULL,
    started_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    finished   BOOLEAN NOT NULL
);
