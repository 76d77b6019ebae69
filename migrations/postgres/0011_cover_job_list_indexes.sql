-- As sqlite/0011: the time-range indexes carry the id, so a job page picks its ids from the
-- index alone (an index-only scan) and reads the table for the rows returned only.
DROP INDEX jobs_tenant_created;
CREATE INDEX jobs_tenant_created ON jobs (tenant, created_at, id);
DROP INDEX jobs_tenant_status_created;
CREATE INDEX jobs_tenant_status_created ON jobs (tenant, status, created_at, id);
DROP INDEX jobs_created;
CREATE INDEX jobs_created ON jobs (created_at, id);
