-- Users brought over from EPrints (`arkiv import users`).
--
-- `username` is EPrints' login name, kept so that its owner can log in
-- with it as well as with the address; unique whatever its case
-- (`username_key`, lower-cased), as EPrints has it. NULL for accounts made
-- in Arkiv. `eprints_userid` is the user's id in EPrints: the records of an
-- EPrints export name their depositor by it, and the import turns it into
-- this account's id (unique; NULL for accounts made in Arkiv).
--
-- EPrints allows two users one address, Arkiv's `email_key` does not:
-- the first such user by EPrints id keeps the address as their login; the
-- others keep it in `email` (mail reaches them) but get an `email_key`
-- that no typed address can produce (it holds capitals; `email_key` is
-- lower case), so they log in by username only.
--
-- An imported user's password is EPrints' hash in `password_hash`, marked
-- `eprints:` (read by the login only, and replaced by Arkiv's own hash at
-- the first login that matches it), or '' when EPrints gave none.
ALTER TABLE users ADD COLUMN username TEXT;
ALTER TABLE users ADD COLUMN username_key TEXT;
ALTER TABLE users ADD COLUMN eprints_userid INTEGER;
CREATE UNIQUE INDEX users_by_username ON users (username_key);
CREATE UNIQUE INDEX users_by_eprints_userid ON users (eprints_userid);

-- The EPrints depositor (`<userid>`) of each imported record, noted after
-- the record is written. A record whose depositor was not imported yet has
-- no depositor in Arkiv; importing the user later finds its records here
-- and gives them their depositor (a revision by `system:users`).
CREATE TABLE eprints_depositors (
    record_id      INTEGER PRIMARY KEY,
    eprints_userid INTEGER NOT NULL
);
CREATE INDEX eprints_depositors_by_user ON eprints_depositors (eprints_userid);
