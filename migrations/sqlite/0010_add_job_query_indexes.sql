-- Job queries (SPEC §3, issue #20): GET /v1/jobs filters by time, node and error code, and
-- /v1/stats groups a tenant's time range. Metadata keys get their expression index at start,
-- for the keys named in MEDIANODE_INDEXED_METADATA (store/job-query.ts names them).
CREATE INDEX jobs_tenant_created ON jobs (tenant, created_at);
-- A tenant's jobs in one state over a time range (a day's failures): no sort through every state.
CREATE INDEX jobs_tenant_status_created ON jobs (tenant, status, created_at);
CREATE INDEX jobs_created ON jobs (created_at);
CREATE INDEX jobs_node_id ON jobs (node, id) WHERE node IS NOT NULL;
CREATE INDEX jobs_error_code_id ON jobs (json_extract(error, '$."code"'), id) WHERE error IS NOT NULL;
