-- Notification channels beside webhooks (issue #18): as sqlite/0008. Email and Web Push
-- subscriptions, a job's own `notify`, and the delivery log's channel, subscription, dedupe key
-- (one terminal notification per job run per subscription) and the attempt being sent.
CREATE TABLE notifications (
  id         TEXT PRIMARY KEY,
  tenant     TEXT NOT NULL,
  channel    TEXT NOT NULL CHECK (channel IN ('email','webpush')),
  target     TEXT NOT NULL,
  events     TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX notifications_tenant ON notifications (tenant);

ALTER TABLE jobs ADD COLUMN notify TEXT;

ALTER TABLE deliveries ADD COLUMN channel TEXT NOT NULL DEFAULT 'webhook';
ALTER TABLE deliveries ADD COLUMN notification_id TEXT;
ALTER TABLE deliveries ADD COLUMN dedupe_key TEXT;
ALTER TABLE deliveries ADD COLUMN sending_attempt INTEGER;
CREATE UNIQUE INDEX deliveries_dedupe ON deliveries (dedupe_key);
CREATE INDEX deliveries_notification ON deliveries (notification_id, created_at);
CREATE INDEX deliveries_pending ON deliveries (created_at) WHERE state = 'pending';
