// Channels and listener sessions (SPEC §12), tenant-scoped like jobs.
import type { Db } from "./db";

export interface ChannelRow {
  tenant: string;
  name: string;
  loop: number;
  jobs: string;
  tracks: string;
  epoch_ms: number;
  paused_sec: number;
  live_since_ms: number | null;
  token_id: string | null;
  created_at: number;
}

export function insertChannel(db: Db, r: ChannelRow): boolean {
  return (
    db
      .query("INSERT OR IGNORE INTO channels (tenant, name, loop, jobs, tracks, epoch_ms, paused_sec, live_since_ms, token_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .run(r.tenant, r.name, r.loop, r.jobs, r.tracks, r.epoch_ms, r.paused_sec, r.live_since_ms, r.token_id, r.created_at).changes === 1
  );
}

export function getChannel(db: Db, tenant: string, name: string): ChannelRow | null {
  return db.query<ChannelRow, [string, string]>("SELECT * FROM channels WHERE tenant = ? AND name = ?").get(tenant, name);
}

/** A tenant's channels (null: every tenant's). */
export function listChannels(db: Db, tenant: string | null): ChannelRow[] {
  return tenant === null
    ? db.query<ChannelRow, []>("SELECT * FROM channels ORDER BY tenant, name").all()
    : db.query<ChannelRow, [string]>("SELECT * FROM channels WHERE tenant = ? ORDER BY name").all(tenant);
}

export function deleteChannel(db: Db, tenant: string, name: string): boolean {
  return db.query("DELETE FROM channels WHERE tenant = ? AND name = ?").run(tenant, name).changes === 1;
}

export function setChannelClock(db: Db, tenant: string, name: string, pausedSec: number, liveSinceMs: number | null): void {
  db.query("UPDATE channels SET paused_sec = ?, live_since_ms = ? WHERE tenant = ? AND name = ?").run(pausedSec, liveSinceMs, tenant, name);
}

export interface ListenerSessionRow {
  id: string;
  tenant: string;
  channel: string;
  token_id: string | null;
  node: string;
  codec: string;
  bitrate_kbps: number;
  started_at: number;
  ended_at: number | null;
  bytes: number;
  end_reason: string | null;
}

/** Inserts or updates (a session is reported at its start and at its end). */
export function upsertListenerSession(db: Db, r: ListenerSessionRow): void {
  db.query(
    `INSERT INTO listener_sessions (id, tenant, channel, token_id, node, codec, bitrate_kbps, started_at, ended_at, bytes, end_reason)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET codec = excluded.codec, bitrate_kbps = excluded.bitrate_kbps,
       ended_at = COALESCE(excluded.ended_at, ended_at), bytes = MAX(bytes, excluded.bytes), end_reason = COALESCE(excluded.end_reason, end_reason)`,
  ).run(r.id, r.tenant, r.channel, r.token_id, r.node, r.codec, r.bitrate_kbps, r.started_at, r.ended_at, r.bytes, r.end_reason);
}

export function listListenerSessions(db: Db, tenant: string, channel: string, limit: number, before?: number): ListenerSessionRow[] {
  return db
    .query<ListenerSessionRow, [string, string, number, number]>("SELECT * FROM listener_sessions WHERE tenant = ? AND channel = ? AND started_at < ? ORDER BY started_at DESC LIMIT ?")
    .all(tenant, channel, before ?? Number.MAX_SAFE_INTEGER, limit);
}

export function deleteListenerSessions(db: Db, tenant: string, channel: string): void {
  db.query("DELETE FROM listener_sessions WHERE tenant = ? AND channel = ?").run(tenant, channel);
}
