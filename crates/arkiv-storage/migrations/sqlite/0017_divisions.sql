-- Divisions (the faculties, departments and programmes that own the work,
-- EPrints' `divisions`) are a second tree beside the subjects, in the same
-- table and the same id space as in EPrints: `scheme` says which tree a
-- node is in. Existing rows are subjects.
ALTER TABLE subjects ADD COLUMN scheme TEXT NOT NULL DEFAULT 'subjects';
