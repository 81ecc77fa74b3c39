-- Embargoes that lift by themselves, new versions, the review buffer by
-- type: see migrations/sqlite/0007_embargoes_and_versions.sql.
ALTER TABLE records ADD COLUMN embargo_until BIGINT;
ALTER TABLE records ADD COLUMN succeeds BIGINT;

UPDATE records SET embargo_until = due.until
FROM (
    SELECT v.record_id,
           MIN(replace(CASE length(d ->> 'embargo') WHEN 4 THEN (d ->> 'embargo') || '-12-31'
                       WHEN 7 THEN (d ->> 'embargo') || '-31' ELSE d ->> 'embargo' END, '-', '')::bigint) AS until
    FROM records r
    JOIN revisions v ON v.record_id = r.id AND v.number = r.rev,
    jsonb_array_elements(COALESCE(v.data::jsonb -> 'documents', '[]'::jsonb)) d
    WHERE r.status = 'archive' AND d ? 'embargo'
    GROUP BY v.record_id
) due
WHERE records.id = due.record_id AND due.until > to_char(now(), 'YYYYMMDD')::bigint;

CREATE INDEX records_by_embargo ON records (embargo_until) WHERE embargo_until IS NOT NULL;
CREATE INDEX records_by_succeeds ON records (succeeds) WHERE succeeds IS NOT NULL;
CREATE INDEX records_by_status_type ON records (status, item_type, lastmod, id);
