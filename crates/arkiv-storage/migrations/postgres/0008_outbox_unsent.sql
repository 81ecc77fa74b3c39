-- See migrations/sqlite/0008_outbox_unsent.sql.
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent IS NULL;
