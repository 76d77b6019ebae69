-- The signing secrets every api node of a cluster must share (SPEC §11): playback URLs, webhook
-- signatures and Web Push (VAPID) keys made by one node are checked or used by another. The
-- first node to start stores its own (services/signing-secrets.ts); the rest read it.
CREATE TABLE cluster_secrets (
  name       TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
