-- Each token gets its own secret for signing its jobs' own webhook URLs (issue #12): one node
-- secret signed every tenant's, so whoever could verify one tenant's could forge any other's.
-- Tokens made before this stay NULL and keep the node's secret until rotated
-- (POST /v1/webhooks/signing-secret or `medianode token rotate-webhook-secret ID`).
ALTER TABLE tokens ADD COLUMN webhook_secret TEXT;
