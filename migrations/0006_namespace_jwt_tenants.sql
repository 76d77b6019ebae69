-- JWT tenants and token tenants shared one namespace: a JWT with sub=admin (or any token's
-- tenant name) saw that tenant's jobs and outputs (issue #12). A JWT's tenant is now
-- `jwt:<sub>`; a token's tenant can no longer contain ':' (checked on creation). Rows made
-- through a JWT move into its namespace: jobs by their token_id (`jwt:<sub>`), webhooks by the
-- audit entry of their creation, deliveries by either. Deliveries first: their conditions read
-- the jobs and webhooks rows before those change.
UPDATE deliveries SET tenant = 'jwt:' || tenant
  WHERE job_id IN (SELECT id FROM jobs WHERE token_id LIKE 'jwt:%')
     OR webhook_id IN (SELECT target FROM audit WHERE action = 'webhook.create' AND actor LIKE 'jwt:%');
UPDATE jobs SET tenant = 'jwt:' || tenant WHERE token_id LIKE 'jwt:%';
UPDATE webhooks SET tenant = 'jwt:' || tenant
  WHERE id IN (SELECT target FROM audit WHERE action = 'webhook.create' AND actor LIKE 'jwt:%');
-- A token given a tenant inside the JWT namespace (possible before the check) leaves it.
UPDATE tokens SET tenant = 'token:' || tenant WHERE tenant LIKE 'jwt:%';
