-- Live audio channels (SPEC §12) and their listener sessions. The clock fields are the
-- channel's state at its last change; Redis holds the live copy every monitor reads.
CREATE TABLE channels (
  tenant        TEXT NOT NULL,
  name          TEXT NOT NULL,
  loop          INTEGER NOT NULL,
  jobs          TEXT NOT NULL,
  tracks        TEXT NOT NULL,
  epoch_ms      INTEGER NOT NULL,
  paused_sec    REAL NOT NULL DEFAULT 0,
  live_since_ms INTEGER,
  token_id      TEXT,
  created_at    INTEGER NOT NULL,
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
  started_at   INTEGER NOT NULL,
  ended_at     INTEGER,
  bytes        INTEGER NOT NULL DEFAULT 0,
  end_reason   TEXT
);
CREATE INDEX listener_sessions_channel ON listener_sessions (tenant, channel, started_at);
