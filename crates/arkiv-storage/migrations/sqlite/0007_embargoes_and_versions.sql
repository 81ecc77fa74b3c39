-- Embargoes that lift by themselves, new versions of a record, and the
-- review buffer filtered by item type.
--
-- `embargo_until` (YYYYMMDD) is the first day on which one of a live
-- record's documents comes out of embargo, if that day is still ahead; the
-- embargo job walks `records_by_embargo` up to today, never the whole
-- repository. `succeeds` names the earlier version of a new version, so
-- the earlier record's page can link to its later versions.
ALTER TABLE records ADD COLUMN embargo_until INTEGER;
ALTER TABLE records ADD COLUMN succeeds INTEGER;

-- Existing embargoes (dates kept as YYYY, YYYY-MM or YYYY-MM-DD; a month
-- counts as ending on its 31st here, at worst a day late, never early).
UPDATE records SET embargo_until = (
    SELECT MIN(CAST(replace(CASE length(e) WHEN 4 THEN e || '-12-31' WHEN 7 THEN e || '-31' ELSE e END, '-', '') AS INTEGER))
    FROM (
        SELECT json_extract(d.value, '$.embargo') AS e
        FROM revisions v, json_each(v.data, '$.documents') d
        WHERE v.record_id = records.id AND v.number = records.rev
    )
    WHERE e IS NOT NULL
) WHERE status = 'archive';
UPDATE records SET embargo_until = NULL WHERE embargo_until <= CAST(strftime('%Y%m%d', 'now') AS INTEGER);

CREATE INDEX records_by_embargo ON records (embargo_until) WHERE embargo_until IS NOT NULL;
CREATE INDEX records_by_succeeds ON records (succeeds) WHERE succeeds IS NOT NULL;
CREATE INDEX records_by_status_type ON records (status, item_type, lastmod, id);
