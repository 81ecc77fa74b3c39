-- A copy request names the file it asks for: see
-- migrations/sqlite/0014_copy_grant_binding.sql.
ALTER TABLE copy_requests ADD COLUMN file_name TEXT;
ALTER TABLE copy_requests ADD COLUMN file_sha256 TEXT;
