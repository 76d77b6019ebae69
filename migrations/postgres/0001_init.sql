-- Jobs: the system of record (SPEC §1, §11). The PostgreSQL twin of sqlite/0001_init.sql:
-- same tables, columns and meaning. Times are epoch milliseconds (BIGINT); JSON columns are
-- TEXT so that metadata comes back byte for byte as given (jsonb would reorder its keys).
CREATE TABLE jobs (
  -- Bytewise order, as SQLite's: ids sort by creation time and page by "id < cursor".
  id              TEXT COLLATE "C" PRIMARY KEY,
  tenant          TEXT NOT NULL,
  token_id        TEXT,
  type            TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('queued','active','completed','failed','cancelled')),
  progress        DOUBLE PRECISION NOT NULL DEFAULT 0,
  priority        INTEGER NOT NULL DEFAULT 0,
  source          TEXT NOT NULL,
  options         TEXT NOT NULL,
  metadata        TEXT,
  outputs         TEXT NOT NULL DEFAULT '[]',
  result          TEXT,
  error           TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  max_attempts    INTEGER NOT NULL,
  node            TEXT,
  webhook         TEXT,
  idempotency_key TEXT,
  enqueued        INTEGER NOT NULL DEFAULT 0,
  run             INTEGER NOT NULL DEFAULT 1,
  created_at      BIGINT NOT NULL,
  started_at      BIGINT,
  finished_at     BIGINT,
  updated_at      BIGINT NOT NULL
);
CREATE INDEX jobs_status_id ON jobs (status, id);
CREATE INDEX jobs_tenant_id ON jobs (tenant, id);
CREATE INDEX jobs_enqueued ON jobs (enqueued) WHERE enqueued = 0;
CREATE UNIQUE INDEX jobs_idempotency ON jobs (token_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE tokens (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  hash         TEXT NOT NULL,
  scopes       TEXT NOT NULL,
  tenant       TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at   BIGINT
);

CREATE TABLE audit (
  id       BIGSERIAL PRIMARY KEY,
  at       BIGINT NOT NULL,
  actor    TEXT NOT NULL,
  action   TEXT NOT NULL,
  target   TEXT,
  details  TEXT
);
CREATE INDEX audit_at ON audit (at);
