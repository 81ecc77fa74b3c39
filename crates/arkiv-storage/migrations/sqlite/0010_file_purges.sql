-- Files purged from drafts that never went live (see file_refs.rs): the
-- bytes a draft named in an earlier revision and dropped are deleted after
-- a grace period, and this row says so, so that the item's history can say
-- "file purged on ..." instead of pointing at bytes that are gone. Files of
-- a record that was ever live are never purged.
CREATE TABLE file_purges (
    record_id INTEGER NOT NULL,
    sha256    TEXT    NOT NULL,
    filename  TEXT    NOT NULL,
    bytes     INTEGER NOT NULL,
    purged_at INTEGER NOT NULL,
    PRIMARY KEY (record_id, sha256)
);
