-- OAI-PMH harvesting of other repositories (arkiv harvest).
--
-- harvest_sources: one row per source, by the name arkiv.toml gives it
-- (or its base URL for a one-off harvest): where it is, what is asked of
-- it, and how far it has been harvested. harvested_until is the source's
-- own responseDate at the start of the last run that went to the end of
-- its list: the next run asks from there. last_error is the last run's
-- failure, NULL after a run that ended well.
CREATE TABLE harvest_sources (
    name            TEXT    PRIMARY KEY,
    base_url        TEXT    NOT NULL,
    set_spec        TEXT    NOT NULL,
    prefix          TEXT    NOT NULL,
    harvested_until TEXT,
    last_run        BIGINT,
    last_error      TEXT,
    records         BIGINT  NOT NULL
);

-- Which local record holds each harvested identifier, the source's
-- datestamp it was taken at, and the local revision the harvest wrote: a
-- record whose current revision is another was edited here, and a newer
-- harvest of it becomes a conflict instead of overwriting the edit.
CREATE TABLE harvested_records (
    source     TEXT    NOT NULL,
    identifier TEXT    NOT NULL,
    record_id  BIGINT  NOT NULL,
    datestamp  TEXT    NOT NULL,
    revision   BIGINT  NOT NULL,
    harvested  BIGINT  NOT NULL,
    PRIMARY KEY (source, identifier)
);
CREATE INDEX harvested_records_by_record ON harvested_records (record_id);

-- A newer version of a harvested record that was edited here, kept until
-- an admin takes it or keeps the local version. incoming: the harvested
-- record as Arkiv JSON, or NULL when the source deleted the record.
CREATE TABLE harvest_conflicts (
    source     TEXT    NOT NULL,
    identifier TEXT    NOT NULL,
    record_id  BIGINT  NOT NULL,
    datestamp  TEXT    NOT NULL,
    incoming   TEXT,
    found      BIGINT  NOT NULL,
    PRIMARY KEY (source, identifier)
);
