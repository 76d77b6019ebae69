-- Breakers keyed per subscription (`webhook:<id>`) or per tenant and URL (`job:<tenant> <url>`):
-- as sqlite/0005. Breaker rows are transient (a pause of at most an hour): dropped, not rekeyed.
DROP TABLE webhook_breakers;
CREATE TABLE webhook_breakers (
  key                  TEXT PRIMARY KEY,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  open_until           BIGINT
);
