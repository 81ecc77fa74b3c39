-- Messages still to go out by SMTP, oldest first, for the server's hourly
-- retry: a partial index, so it holds only the few unsent ones however
-- long the outbox grows.
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent IS NULL;
