-- Rate limits, one row per key (a login's account and address, a mail's
-- recipient or the address that asked for it): how many attempts since
-- the key was last quiet, when the last one was, and when the next may
-- come. One statement reads and moves a row (`RateLimits::claim`), so that
-- parallel attempts cannot all pass a check none of them has counted yet,
-- and every node sees the same count.
--
-- Replaces login_failures, which counted failures in one table and checked
-- them in another statement: 40 parallel guesses all passed a limit of 5.
DROP TABLE login_failures;

CREATE TABLE rate_limits (
    key          TEXT    PRIMARY KEY,
    attempts     BIGINT NOT NULL,
    last_attempt BIGINT NOT NULL,
    next_allowed BIGINT NOT NULL
);
CREATE INDEX rate_limits_by_last_attempt ON rate_limits (last_attempt);
