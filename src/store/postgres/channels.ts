// Channels and listener sessions (SPEC §12) on PostgreSQL, behind ChannelRecords: the same
// rules as store/sqlite/channels.ts (a session of a deleted channel is dropped; an update
// never lowers the bytes or forgets an end).
import type { SQL } from "bun";
import { toChannel, toSession, type ChannelRow, type SessionRow } from "../channel-row";
import type { ChannelRecords } from "../records";

export function postgresChannelRecords(sql: SQL): ChannelRecords {
  return {
    async insert(c) {
      const r = await sql`INSERT INTO channels (tenant, name, loop, jobs, tracks, epoch_ms, paused_sec, live_since_ms, token_id, created_at)
        VALUES (${c.tenant}, ${c.name}, ${c.loop}, ${JSON.stringify(c.jobs)}, ${JSON.stringify(c.tracks)}, ${c.epochMs}, ${c.pausedSec}, ${c.liveSinceMs}, ${c.tokenId}, ${c.createdAt})
        ON CONFLICT (tenant, name) DO NOTHING`;
      return r.count === 1;
    },
    async get(tenant, name) {
      const [r] = (await sql`SELECT * FROM channels WHERE tenant = ${tenant} AND name = ${name}`) as ChannelRow[];
      return r ? toChannel(r) : null;
    },
    async list(tenant) {
      const rows = (tenant === null ? await sql`SELECT * FROM channels ORDER BY tenant, name` : await sql`SELECT * FROM channels WHERE tenant = ${tenant} ORDER BY name`) as ChannelRow[];
      return rows.map(toChannel);
    },
    async delete(tenant, name) {
      return await sql.begin(async (tx) => {
        await tx`DELETE FROM listener_sessions WHERE tenant = ${tenant} AND channel = ${name}`;
        return (await tx`DELETE FROM channels WHERE tenant = ${tenant} AND name = ${name}`).count === 1;
      });
    },
    async setClock(tenant, name, pausedSec, liveSinceMs) {
      await sql`UPDATE channels SET paused_sec = ${pausedSec}, live_since_ms = ${liveSinceMs} WHERE tenant = ${tenant} AND name = ${name}`;
    },
    async upsertSessions(sessions) {
      if (!sessions.length) return;
      await sql.begin(async (tx) => {
        for (const s of sessions)
          await tx`INSERT INTO listener_sessions (id, tenant, channel, token_id, node, codec, bitrate_kbps, started_at, ended_at, bytes, end_reason)
            SELECT ${s.id}, ${s.tenant}, ${s.channel}, ${s.tokenId}, ${s.node}, ${s.codec}, ${s.bitrateKbps}, ${s.startedAt}, ${s.endedAt}, ${s.bytes}, ${s.endReason}
            WHERE EXISTS (SELECT 1 FROM channels WHERE tenant = ${s.tenant} AND name = ${s.channel})
            ON CONFLICT (id) DO UPDATE SET codec = excluded.codec, bitrate_kbps = excluded.bitrate_kbps,
              ended_at = COALESCE(excluded.ended_at, listener_sessions.ended_at), bytes = GREATEST(listener_sessions.bytes, excluded.bytes),
              end_reason = COALESCE(excluded.end_reason, listener_sessions.end_reason)`;
      });
    },
    async listSessions(tenant, channel, limit, before) {
      const rows = (await sql`SELECT * FROM listener_sessions WHERE tenant = ${tenant} AND channel = ${channel} AND started_at < ${before ?? Number.MAX_SAFE_INTEGER} ORDER BY started_at DESC LIMIT ${limit}`) as SessionRow[];
      return rows.map(toSession);
    },
  };
}
