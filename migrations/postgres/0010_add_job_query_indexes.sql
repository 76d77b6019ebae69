-- Job queries: as sqlite/0010. The JSON columns are TEXT (byte for byte as given), so the
-- expressions cast to jsonb; store/postgres/jobs.ts queries with the same expressions.
CREATE INDEX jobs_tenant_created ON jobs (tenant, created_at);
-- A tenant's jobs in one state over a time range (a day's failures): no sort through every state.
CREATE INDEX jobs_tenant_status_created ON jobs (tenant, status, created_at);
CREATE INDEX jobs_created ON jobs (created_at);
CREATE INDEX jobs_node_id ON jobs (node, id) WHERE node IS NOT NULL;
CREATE INDEX jobs_error_code_id ON jobs (((error::jsonb) ->> 'code'), id) WHERE error IS NOT NULL;
