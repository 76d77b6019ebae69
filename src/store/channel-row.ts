// Channel and listener-session rows → records, for both engines (as job-row.ts does for jobs):
// the same columns; SQLite gives numbers and loop as 0/1, PostgreSQL BIGINTs as strings and
// loop as a boolean, so every number passes through Number() and loop through Boolean().
import type { ChannelTrack } from "../channels/schema";
import type { StoredChannel, StoredListenerSession } from "./records";

type Num = number | string;

export interface ChannelRow {
  tenant: string;
  name: string;
  loop: number | boolean;
  jobs: string;
  tracks: string;
  epoch_ms: Num;
  paused_sec: Num;
  live_since_ms: Num | null;
  token_id: string | null;
  created_at: Num;
}

export interface SessionRow {
  id: string;
  tenant: string;
  channel: string;
  token_id: string | null;
  node: string;
  codec: string;
  bitrate_kbps: Num;
  started_at: Num;
  ended_at: Num | null;
  bytes: Num;
  end_reason: string | null;
}

const orNull = (v: Num | null) => (v === null ? null : Number(v));

export const toChannel = (r: ChannelRow): StoredChannel => ({
  tenant: r.tenant,
  name: r.name,
  loop: Boolean(r.loop),
  jobs: JSON.parse(r.jobs) as string[],
  tracks: JSON.parse(r.tracks) as ChannelTrack[],
  epochMs: Number(r.epoch_ms),
  pausedSec: Number(r.paused_sec),
  liveSinceMs: orNull(r.live_since_ms),
  tokenId: r.token_id,
  createdAt: Number(r.created_at),
});

export const toSession = (r: SessionRow): StoredListenerSession => ({
  id: r.id,
  tenant: r.tenant,
  channel: r.channel,
  tokenId: r.token_id,
  node: r.node,
  codec: r.codec,
  bitrateKbps: Number(r.bitrate_kbps),
  startedAt: Number(r.started_at),
  endedAt: orNull(r.ended_at),
  bytes: Number(r.bytes),
  endReason: r.end_reason,
});
