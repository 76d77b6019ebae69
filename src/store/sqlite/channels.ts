// Channels and listener sessions (SPEC §12) on SQLite, behind ChannelRecords (store/records.ts);
// rows become records in store/channel-row.ts, shared with the PostgreSQL engine.
import { toChannel, toSession, type ChannelRow, type SessionRow } from "../channel-row";
import type { Db } from "./db";
import type { ChannelRecords } from "../records";

export function sqliteChannelRecords(db: Db): ChannelRecords {
  return {
    async insert(c) {
      return (
        db
          .query("INSERT OR IGNORE INTO channels (tenant, name, loop, jobs, tracks, epoch_ms, paused_sec, live_since_ms, token_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .run(c.tenant, c.name, c.loop ? 1 : 0, JSON.stringify(c.jobs), JSON.stringify(c.tracks), c.epochMs, c.pausedSec, c.liveSinceMs, c.tokenId, c.createdAt).changes === 1
      );
    },
    async get(tenant, name) {
      const r = db.query<ChannelRow, [string, string]>("SELECT * FROM channels WHERE tenant = ? AND name = ?").get(tenant, name);
      return r ? toChannel(r) : null;
    },
    async list(tenant) {
      const rows =
        tenant === null
          ? db.query<ChannelRow, []>("SELECT * FROM channels ORDER BY tenant, name").all()
          : db.query<ChannelRow, [string]>("SELECT * FROM channels WHERE tenant = ? ORDER BY name").all(tenant);
      return rows.map(toChannel);
    },
    async delete(tenant, name) {
      return db.transaction(() => {
        db.query("DELETE FROM listener_sessions WHERE tenant = ? AND channel = ?").run(tenant, name);
        return db.query("DELETE FROM channels WHERE tenant = ? AND name = ?").run(tenant, name).changes === 1;
      })();
    },
    async setClock(tenant, name, pausedSec, liveSinceMs) {
      db.query("UPDATE channels SET paused_sec = ?, live_since_ms = ? WHERE tenant = ? AND name = ?").run(pausedSec, liveSinceMs, tenant, name);
    },
    async upsertSessions(sessions) {
      const q = db.query(
        `INSERT INTO listener_sessions (id, tenant, channel, token_id, node, codec, bitrate_kbps, started_at, ended_at, bytes, end_reason)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 WHERE EXISTS (SELECT 1 FROM channels WHERE tenant = ?2 AND name = ?3)
         ON CONFLICT (id) DO UPDATE SET codec = excluded.codec, bitrate_kbps = excluded.bitrate_kbps,
           ended_at = COALESCE(excluded.ended_at, ended_at), bytes = MAX(bytes, excluded.bytes), end_reason = COALESCE(excluded.end_reason, end_reason)`,
      );
      db.transaction(() => {
        for (const s of sessions) q.run(s.id, s.tenant, s.channel, s.tokenId, s.node, s.codec, s.bitrateKbps, s.startedAt, s.endedAt, s.bytes, s.endReason);
      })();
    },
    async listSessions(tenant, channel, limit, before) {
      return db
        .query<SessionRow, [string, string, number, number]>("SELECT * FROM listener_sessions WHERE tenant = ? AND channel = ? AND started_at < ? ORDER BY started_at DESC LIMIT ?")
        .all(tenant, channel, before ?? Number.MAX_SAFE_INTEGER, limit)
        .map(toSession);
    },
  };
}
