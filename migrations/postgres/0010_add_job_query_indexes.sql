-- Job queries: as sqlite/0010. The JSON columns are TEXT (byte for byte as given), so the
-- expressions cast to jsonb; store/postgres/jobs.ts queries with the same expressions.
CREATE INDEX jobs_tenant_created ON jobs (tenant, created_at);
CREATE INDEX jobs_created ON jobs (created_at);
CREATE INDEX jobs_node_id ON jobs (node, id) WHERE node IS NOT NULL;
CREATE INDEX jobs_error_code_id ON jobs (((error::jsonb) ->> 'code'), id) WHERE error IS NOT NULL;
