-- Arkiv's first schema on SQLite. Records are JSON documents (the model's
-- serde form) in `revisions`; `records` holds the current revision number and
-- the few columns that are queried, so every read is a primary-key join.

CREATE TABLE records (
    id        INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids are never reused
    rev       INTEGER NOT NULL,
    status    TEXT    NOT NULL,
    item_type TEXT    NOT NULL,
    datestamp INTEGER,
    lastmod   INTEGER NOT NULL
);
CREATE INDEX records_by_status_datestamp ON records (status, datestamp, id);

CREATE TABLE revisions (
    record_id INTEGER NOT NULL,
    number    INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    changed   TEXT    NOT NULL, -- JSON array of field names
    data      TEXT    NOT NULL, -- the record as JSON
    PRIMARY KEY (record_id, number)
);

-- The change feed. AUTOINCREMENT and SQLite's single writer make `seq`
-- increase in commit order.
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id INTEGER NOT NULL,
    rev       INTEGER NOT NULL,
    status    TEXT    NOT NULL,
    at        INTEGER NOT NULL
);

-- Browse views: one row per (view, value, record), ordered for range reads.
CREATE TABLE browse (
    view      TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    sort_key  TEXT    NOT NULL,
    record_id INTEGER NOT NULL,
    PRIMARY KEY (view, value, sort_key, record_id)
) WITHOUT ROWID;

CREATE TABLE browse_counts (
    view  TEXT    NOT NULL,
    value TEXT    NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (view, value)
) WITHOUT ROWID;

CREATE TABLE subjects (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    parent TEXT,
    pos    INTEGER NOT NULL
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
