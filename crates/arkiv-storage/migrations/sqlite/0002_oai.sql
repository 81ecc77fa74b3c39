-- OAI-PMH. A record is OAI-visible once it has been live (`datestamp` is
-- set the first time it goes live) and stays visible forever, reported
-- deleted when no longer live. `oai_sets` lists the sets of every
-- OAI-visible record (rows.rs decides them, in the record's write
-- transaction), so that a set harvest is a range walk of its primary key:
-- set_spec = ? AND record_id > ? ORDER BY record_id.
--
-- Records existing before this migration get their rows at their next write
-- (a rebuild command is a noted follow-up).
CREATE TABLE oai_sets (
    set_spec  TEXT    NOT NULL,
    record_id INTEGER NOT NULL,
    PRIMARY KEY (set_spec, record_id)
) WITHOUT ROWID;

-- Selective harvests by date (from/until on lastmod) over a narrow range.
CREATE INDEX records_oai_by_lastmod ON records (lastmod, id) WHERE datestamp IS NOT NULL;
