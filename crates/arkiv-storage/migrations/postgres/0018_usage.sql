-- Usage statistics, counted as COUNTER Release 5.1 defines them.
--
-- usage_events: what the server saw, one row per abstract-page view or
-- download that may count (robots are never written). The visitor is a
-- 64-bit keyed hash of who they are (their account, else their address
-- and user agent) under the day's key in usage_keys: no address or user
-- agent is stored. kind: 1 an abstract page (an Investigation), 2 a whole
-- download (a Request), 3 part of one (a 206; counts once per file and
-- session). target: 0 for the page, else a hash of the document position
-- and file name, so double clicks are found per URL. open_access: the Access_Type
-- (1 Open, 0 Controlled) at the time. rolled: 1 once counted into the
-- aggregates, in the transaction that counted it; rolled rows are deleted
-- after [statistics] keep_events_days.
CREATE TABLE usage_events (
    at        BIGINT NOT NULL,
    record_id BIGINT NOT NULL,
    target    BIGINT NOT NULL,
    kind      BIGINT NOT NULL,
    open_access BIGINT NOT NULL,
    visitor   BIGINT NOT NULL,
    rolled    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX usage_events_by_rolled_at ON usage_events (rolled, at);

-- The day's key for the visitor hash, one per UTC day (days since 1970),
-- shared by every node; deleted once its day is counted, after which no
-- hash can be tied to an address again.
CREATE TABLE usage_keys (
    day BIGINT PRIMARY KEY,
    key TEXT NOT NULL
);

-- Per item, per day, per Access_Type: the four COUNTER item metrics, as
-- the roll-up counted them (double clicks filtered, unique per
-- user-session). What SUSHI reports read.
CREATE TABLE usage_daily (
    record_id             BIGINT NOT NULL,
    day                   BIGINT NOT NULL,
    open_access           BIGINT NOT NULL,
    investigations        BIGINT NOT NULL,
    unique_investigations BIGINT NOT NULL,
    requests              BIGINT NOT NULL,
    unique_requests       BIGINT NOT NULL,
    PRIMARY KEY (record_id, day, open_access)
);
CREATE INDEX usage_daily_by_day ON usage_daily (day, record_id);

-- Per item, per month (year * 12 + month - 1), both Access_Types together:
-- what an abstract page shows, one index range per record.
CREATE TABLE usage_monthly (
    record_id             BIGINT NOT NULL,
    month                 BIGINT NOT NULL,
    investigations        BIGINT NOT NULL,
    unique_investigations BIGINT NOT NULL,
    requests              BIGINT NOT NULL,
    unique_requests       BIGINT NOT NULL,
    PRIMARY KEY (record_id, month)
);
CREATE INDEX usage_monthly_by_month_requests ON usage_monthly (month, requests, record_id);

-- Per item, per year: the year's most downloaded items, by index.
CREATE TABLE usage_yearly (
    record_id             BIGINT NOT NULL,
    year                  BIGINT NOT NULL,
    investigations        BIGINT NOT NULL,
    unique_investigations BIGINT NOT NULL,
    requests              BIGINT NOT NULL,
    unique_requests       BIGINT NOT NULL,
    PRIMARY KEY (record_id, year)
);
CREATE INDEX usage_yearly_by_year_requests ON usage_yearly (year, requests, record_id);

-- The whole repository, per month: /stats's totals.
CREATE TABLE usage_repository_monthly (
    month                 BIGINT PRIMARY KEY,
    investigations        BIGINT NOT NULL,
    unique_investigations BIGINT NOT NULL,
    requests              BIGINT NOT NULL,
    unique_requests       BIGINT NOT NULL
);

-- Per browse group (an item type, a series, a subject, a division, a
-- creator, a year of publication: the record's browse entries when the
-- roll-up counted it), per month and per year: /stats's tables and the
-- browse pages' own figures. Unique counts are summed over the group's
-- items, as COUNTER sums them for a title's items.
CREATE TABLE usage_group_monthly (
    view                  TEXT NOT NULL,
    value                 TEXT NOT NULL,
    month                 BIGINT NOT NULL,
    investigations        BIGINT NOT NULL,
    unique_investigations BIGINT NOT NULL,
    requests              BIGINT NOT NULL,
    unique_requests       BIGINT NOT NULL,
    PRIMARY KEY (view, value, month)
);
CREATE TABLE usage_group_yearly (
    view                  TEXT NOT NULL,
    value                 TEXT NOT NULL,
    year                  BIGINT NOT NULL,
    investigations        BIGINT NOT NULL,
    unique_investigations BIGINT NOT NULL,
    requests              BIGINT NOT NULL,
    unique_requests       BIGINT NOT NULL,
    PRIMARY KEY (view, value, year)
);
CREATE INDEX usage_group_yearly_by_requests ON usage_group_yearly (view, year, requests, value);

-- Access logs imported (`arkiv stats import-log`), by the SHA-256 of their
-- content (read through gzip if need be), written in the transaction of
-- their events: a log imported twice counts nothing twice.
CREATE TABLE usage_imports (
    sha256   TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    events   BIGINT NOT NULL,
    imported BIGINT NOT NULL
);

-- Per item, per month, per Access_Type: what an Item Report (SUSHI IR)
-- reads, item by item in id order.
CREATE TABLE usage_item_access_monthly (
    record_id             BIGINT NOT NULL,
    month                 BIGINT NOT NULL,
    open_access           BIGINT NOT NULL,
    investigations        BIGINT NOT NULL,
    unique_investigations BIGINT NOT NULL,
    requests              BIGINT NOT NULL,
    unique_requests       BIGINT NOT NULL,
    PRIMARY KEY (record_id, month, open_access)
);

-- Who may harvest the COUNTER_SUSHI API: an admin adds them on /admin.
-- Reports are the whole repository's (usage is not attributed to
-- institutions), so a client's customer ID only names it.
CREATE TABLE sushi_clients (
    requestor_id TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    api_key      TEXT NOT NULL,
    name         TEXT NOT NULL,
    created      BIGINT NOT NULL
);
