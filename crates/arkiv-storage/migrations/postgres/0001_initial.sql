-- Arkiv's first schema on PostgreSQL: the same tables as on SQLite (see
-- migrations/sqlite/0001_initial.sql). Records are JSON documents (the model's
-- serde form) in `revisions`, kept as TEXT: byte for byte what was written,
-- and JSONB would refuse the \u0000 escape a string may hold.
--
-- Text that is ordered or compared by range (browse values and sort keys)
-- uses the "C" collation: byte order, as in SQLite, whatever the database's
-- default locale, so the two backends list and page identically.

-- Ids come from records_id_seq. The store allocates them itself while holding
-- the write lock and advances the sequence past every id it writes
-- (explicit ones included) with setval; sequences are not rolled back, so an
-- id handed out once is never handed out again.
CREATE TABLE records (
    id        BIGSERIAL PRIMARY KEY,
    rev       BIGINT NOT NULL,
    status    TEXT   NOT NULL,
    item_type TEXT   NOT NULL,
    datestamp BIGINT,
    lastmod   BIGINT NOT NULL
);
CREATE INDEX records_by_status_datestamp ON records (status, datestamp, id);

CREATE TABLE revisions (
    record_id BIGINT NOT NULL,
    number    BIGINT NOT NULL,
    actor     TEXT   NOT NULL,
    at        BIGINT NOT NULL,
    changed   TEXT   NOT NULL, -- JSON array of field names
    data      TEXT   NOT NULL, -- the record as JSON
    PRIMARY KEY (record_id, number)
);

-- The change feed. A sequence alone does not number in commit order under
-- concurrent writers; the store serialises writers with an advisory lock held
-- to commit, which does.
CREATE TABLE changes (
    seq       BIGSERIAL PRIMARY KEY,
    record_id BIGINT NOT NULL,
    rev       BIGINT NOT NULL,
    status    TEXT   NOT NULL,
    at        BIGINT NOT NULL
);

-- Browse views: one row per (view, value, record), ordered for range reads.
CREATE TABLE browse (
    view      TEXT COLLATE "C" NOT NULL,
    value     TEXT COLLATE "C" NOT NULL,
    sort_key  TEXT COLLATE "C" NOT NULL,
    record_id BIGINT NOT NULL,
    PRIMARY KEY (view, value, sort_key, record_id)
);

CREATE TABLE browse_counts (
    view  TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    n     BIGINT NOT NULL,
    PRIMARY KEY (view, value)
);

CREATE TABLE subjects (
    id     TEXT COLLATE "C" PRIMARY KEY,
    name   TEXT NOT NULL,
    parent TEXT,
    pos    BIGINT NOT NULL
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
