-- The deposit workflow: see migrations/sqlite/0004_workflow.sql.
ALTER TABLE records ADD COLUMN userid BIGINT;
UPDATE records SET userid = (v.data::jsonb ->> 'userid')::bigint
FROM revisions v WHERE v.record_id = records.id AND v.number = records.rev;
CREATE INDEX records_by_user ON records (userid, status, lastmod, id);
CREATE INDEX records_by_status_lastmod ON records (status, lastmod, id);
