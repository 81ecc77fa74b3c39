-- The ids EPrints gave documents and files, kept by imported records so
-- that EPrints' addresses /id/document/D and /id/file/F still answer: which
-- record holds each. A hint, written after the record (the record's JSON
-- is the truth): a reader looks the id up in the record it names, so a
-- document since removed or moved is never served by mistake.
CREATE TABLE eprints_ids (
    kind      TEXT NOT NULL,
    eprints_id BIGINT NOT NULL,
    record_id BIGINT NOT NULL,
    PRIMARY KEY (kind, eprints_id)
);
