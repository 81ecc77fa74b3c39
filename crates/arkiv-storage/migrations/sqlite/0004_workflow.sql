-- The deposit workflow: whose a record is, so that a depositor's items and
-- the review buffer (oldest first) are index range reads, never a scan.
ALTER TABLE records ADD COLUMN userid INTEGER;
UPDATE records SET userid = (
    SELECT json_extract(v.data, '$.userid') FROM revisions v
    WHERE v.record_id = records.id AND v.number = records.rev
);
CREATE INDEX records_by_user ON records (userid, status, lastmod, id);
CREATE INDEX records_by_status_lastmod ON records (status, lastmod, id);
