-- Live audio channels and their listener sessions: as sqlite/0009 (times BIGINT ms, loop a BOOLEAN).
CREATE TABLE channels (
  tenant        TEXT NOT NULL,
  name          TEXT NOT NULL,
  loop          BOOLEAN NOT NULL,
  jobs          TEXT NOT NULL,
  tracks        TEXT NOT NULL,
  epoch_ms      BIGINT NOT NULL,
  paused_sec    DOUBLE PRECISION NOT NULL DEFAULT 0,
  live_since_ms BIGINT,
  token_id      TEXT,
  created_at    BIGINT NOT NULL,
  PRIMARY KEY (tenant, name)
);

CREATE TABLE listener_sessions (
  id           TEXT PRIMARY KEY,
  tenant       TEXT NOT NULL,
  channel      TEXT NOT NULL,
  token_id     TEXT,
  node         TEXT NOT NULL,
  codec        TEXT NOT NULL,
  bitrate_kbps INTEGER NOT NULL,
  started_at   BIGINT NOT NULL,
  ended_at     BIGINT,
  bytes        BIGINT NOT NULL DEFAULT 0,
  end_reason   TEXT
);
CREATE INDEX listener_sessions_channel ON listener_sessions (tenant, channel, started_at);
