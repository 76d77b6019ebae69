-- Notification channels beside webhooks (issue #18): email and Web Push subscriptions, and a
-- job's own `notify`. Every channel shares the one delivery log (deliveries + attempts), the
-- one retry policy and the per-subscription breakers of webhooks.
CREATE TABLE notifications (
  id         TEXT PRIMARY KEY,
  tenant     TEXT NOT NULL,
  channel    TEXT NOT NULL CHECK (channel IN ('email','webpush')),
  -- email: the address; webpush: the PushSubscription JSON {endpoint, keys: {p256dh, auth}}
  target     TEXT NOT NULL,
  events     TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX notifications_tenant ON notifications (tenant);

ALTER TABLE jobs ADD COLUMN notify TEXT;

ALTER TABLE deliveries ADD COLUMN channel TEXT NOT NULL DEFAULT 'webhook';
ALTER TABLE deliveries ADD COLUMN notification_id TEXT;
-- One terminal notification per job run per subscription: "<jobId>:<run> <breaker key>".
-- NULL for rows made before this (NULLs never collide).
ALTER TABLE deliveries ADD COLUMN dedupe_key TEXT;
-- The attempt being sent right now. Still set when a delivery is picked up again, it means the
-- node died mid-send: the outcome is unknown and the delivery is not sent a second time.
ALTER TABLE deliveries ADD COLUMN sending_attempt INTEGER;
CREATE UNIQUE INDEX deliveries_dedupe ON deliveries (dedupe_key);
CREATE INDEX deliveries_notification ON deliveries (notification_id, created_at);
-- Pending deliveries are re-queued at start (one written but never queued, or lost with Redis).
CREATE INDEX deliveries_pending ON deliveries (created_at) WHERE state = 'pending';
