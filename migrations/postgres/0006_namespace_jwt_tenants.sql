-- JWT tenants move into their own namespace (`jwt:<sub>`): as sqlite/0006, deliveries first
-- (their conditions read the jobs and webhooks rows before those change).
UPDATE deliveries SET tenant = 'jwt:' || tenant
  WHERE job_id IN (SELECT id FROM jobs WHERE token_id LIKE 'jwt:%')
     OR webhook_id IN (SELECT target FROM audit WHERE action = 'webhook.create' AND actor LIKE 'jwt:%');
UPDATE jobs SET tenant = 'jwt:' || tenant WHERE token_id LIKE 'jwt:%';
UPDATE webhooks SET tenant = 'jwt:' || tenant
  WHERE id IN (SELECT target FROM audit WHERE action = 'webhook.create' AND actor LIKE 'jwt:%');
UPDATE tokens SET tenant = 'token:' || tenant WHERE tenant LIKE 'jwt:%';
