-- Confirmed addresses. A self-registered account has no right beyond an
-- anonymous visitor's until its address is confirmed through a one-time
-- link mailed to it (a token stored by its SHA-256, valid until
-- `expires`). Accounts made by an admin are confirmed when made.
--
-- At upgrade: staff accounts (editors, admins) were made by an admin and
-- stay confirmed. Depositor accounts may have registered themselves with
-- any address, so they must confirm it once: their next login mails them a
-- link (or an admin confirms them on /admin).
ALTER TABLE users ADD COLUMN verified INTEGER NOT NULL DEFAULT 1;
UPDATE users SET verified = 0 WHERE role = 'depositor';

CREATE TABLE address_confirmations (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created    INTEGER NOT NULL,
    expires    INTEGER NOT NULL
);
CREATE INDEX address_confirmations_by_user ON address_confirmations (user_id, created);
