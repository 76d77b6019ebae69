-- Webhook subscriptions (SPEC §4), one row per delivery (event × endpoint), one per attempt,
-- and the circuit breaker state per endpoint URL.
CREATE TABLE webhooks (
  id         TEXT PRIMARY KEY,
  tenant     TEXT NOT NULL,
  url        TEXT NOT NULL,
  events     TEXT NOT NULL,
  secret     TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant);

CREATE TABLE deliveries (
  id          TEXT PRIMARY KEY,
  webhook_id  TEXT,
  job_id      TEXT,
  tenant      TEXT NOT NULL,
  url         TEXT NOT NULL,
  event_type  TEXT NOT NULL,
  body        TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('pending','delivered','failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, created_at);
CREATE INDEX deliveries_job ON deliveries (job_id);

CREATE TABLE delivery_attempts (
  delivery_id TEXT NOT NULL,
  attempt     INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  status_code INTEGER,
  error       TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE webhook_breakers (
  url                  TEXT PRIMARY KEY,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  open_until           INTEGER
);
