-- Circuit breakers were keyed by endpoint URL for every tenant, so one tenant failing against
-- another's URL paused the other's deliveries (issue #12). They are now keyed per
-- subscription (`webhook:<id>`) or, for a job's own webhook URL, per tenant and URL
-- (`job:<tenant> <url>`). Breaker rows are transient state (a pause of at most an hour):
-- the old rows are dropped rather than guessed into the new keys.
DROP TABLE webhook_breakers;
CREATE TABLE webhook_breakers (
  key                  TEXT PRIMARY KEY,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  open_until           INTEGER
);
