-- Browse entries of a bulk load (an import into an empty repository),
-- waiting to be merged into `browse` in its key order when the load ends.
-- Keyed by view, then record: a load appends to it (at one place per view)
-- instead of writing all over the browse index, each view's entries are
-- one range to merge, and an entry is found by its whole key to remove.
CREATE TABLE browse_pending (
    view      TEXT    NOT NULL,
    record_id INTEGER NOT NULL,
    value     TEXT    NOT NULL,
    sort_key  TEXT    NOT NULL,
    PRIMARY KEY (view, record_id, value, sort_key)
) WITHOUT ROWID;
