-- OAI-PMH: the same tables as on SQLite (see migrations/sqlite/0002_oai.sql).
-- set_spec in the "C" collation: byte order, as in SQLite, so ListSets pages
-- identically on both backends.
CREATE TABLE oai_sets (
    set_spec  TEXT COLLATE "C" NOT NULL,
    record_id BIGINT NOT NULL,
    PRIMARY KEY (set_spec, record_id)
);

CREATE INDEX records_oai_by_lastmod ON records (lastmod, id) WHERE datestamp IS NOT NULL;
