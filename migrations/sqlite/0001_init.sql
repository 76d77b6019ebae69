-- Jobs: the system of record (SPEC §1). Rows are written before the job is enqueued.
CREATE TABLE jobs (
  id              TEXT PRIMARY KEY,
  tenant          TEXT NOT NULL,
  token_id        TEXT,
  type            TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('queued','active','completed','failed','cancelled')),
  progress        REAL NOT NULL DEFAULT 0,
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
  -- 0 until BullMQ has the job: start-up replays rows left at 0 (the outbox).
  enqueued        INTEGER NOT NULL DEFAULT 0,
  -- bumped by every retry so that a late report of an earlier run is ignored.
  run             INTEGER NOT NULL DEFAULT 1,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER,
  updated_at      INTEGER NOT NULL
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
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER
);

CREATE TABLE audit (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  at       INTEGER NOT NULL,
  actor    TEXT NOT NULL,
  action   TEXT NOT NULL,
  target   TEXT,
  details  TEXT
);
CREATE INDEX audit_at ON audit (at);
