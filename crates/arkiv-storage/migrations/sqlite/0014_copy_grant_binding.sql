-- A copy request names the file it asks for, not only a document position:
-- the main file's name and SHA-256 when the request was made. An approved
-- link serves those bytes only; if the document at that position was
-- removed or replaced (a new, perhaps staff-only, file in the same place),
-- the link says the copy is no longer available.
--
-- At upgrade: earlier requests name no file (NULL), so their links, valid
-- for a week at most, answer "no longer available"; the reader asks again.
ALTER TABLE copy_requests ADD COLUMN file_name TEXT;
ALTER TABLE copy_requests ADD COLUMN file_sha256 TEXT;
