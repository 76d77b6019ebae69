// Live audio channels (SPEC §12), the api side: channels are records (SQLite, tenant-scoped
// like jobs) and their playlist and clock are mirrored into Redis, which every monitor node
// reads. Monitors never write the records: they report listener sessions and clock changes
// on a Redis list that this side drains into SQLite.
import { Value } from "@sinclair/typebox/value";
import { ConflictError, InvalidOptionsError, NotFoundError } from "../errors";
import { locate, playlistSec } from "../channels/clock";
import { readListeners } from "../channels/presence";
import { ChannelRecord, ChannelReport, channelKey, type ChannelRequest, type ChannelTrack, type ChannelView, type ListenerSession, type StreamRendition } from "../channels/schema";
import { STREAM_CODECS, type StreamCodec } from "../channels/track";
import { CHANNEL_REPORTS_KEY, CHANNELS_CHANNEL, CHANNELS_KEY } from "../queue/names";
import type { StoredChannel, StoredListenerSession } from "../store/records";
import type { OutputFile } from "../jobs/schema";
import { audit } from "./audit";
import { isAdmin, type Principal, type ServiceDeps } from "./deps";
import { checkRequest, getVisibleJob, submitJob } from "./jobs";

type Deps = Pick<ServiceDeps, "records" | "redis" | "now" | "log">;
import { SCOPES, type Scope } from "../store/scopes";

/** The streamable renditions of an audio job's outputs: Ogg Opus files and AAC (remuxed to ADTS by the monitor). */
export function streamRenditions(outputs: OutputFile[]): StreamRendition[] {
  const out: StreamRendition[] = [];
  for (const o of outputs) {
    const m = /^audio-(\d+)k\.(opus|m4a)$/.exec(o.name);
    if (!m) continue;
    const codec: StreamCodec = m[2] === "opus" ? "opus" : "aac";
    out.push({ codec, bitrateKbps: o.bitrate ? Math.round(o.bitrate / 1000) : Number(m[1]), name: o.name });
  }
  return out;
}

async function trackOf(deps: Deps, who: Principal, jobId: string): Promise<ChannelTrack> {
  let row;
  try {
    row = await getVisibleJob(deps, jobId, who);
  } catch {
    throw new InvalidOptionsError(`job ${jobId} does not exist`, { jobId });
  }
  if (row.type !== "audio") throw new InvalidOptionsError(`job ${jobId} is a ${row.type} job: a channel plays audio jobs`, { jobId });
  if (row.status !== "completed") throw new InvalidOptionsError(`job ${jobId} is ${row.status}: a channel plays completed jobs`, { jobId });
  const renditions = streamRenditions(row.outputs);
  if (!renditions.length) throw new InvalidOptionsError(`job ${jobId} has no opus or aac rendition to stream`, { jobId });
  const result = (row.result ?? {}) as { durationSec?: number; tags?: Record<string, string> };
  if (!result.durationSec || result.durationSec <= 0) throw new InvalidOptionsError(`job ${jobId} has no known duration`, { jobId });
  return { jobId, title: result.tags?.title ?? jobId, durationSec: result.durationSec, renditions };
}

export function recordOf(c: StoredChannel): ChannelRecord {
  return { tenant: c.tenant, name: c.name, loop: c.loop, tracks: c.tracks, epochMs: c.epochMs, pausedSec: c.pausedSec, liveSinceMs: c.liveSinceMs, createdAt: c.createdAt };
}

async function publish(deps: Deps, rec: ChannelRecord, onlyIfMissing = false): Promise<void> {
  const key = channelKey(rec.tenant, rec.name);
  if (onlyIfMissing) await deps.redis.hsetnx(CHANNELS_KEY, key, JSON.stringify(rec));
  else await deps.redis.hset(CHANNELS_KEY, key, JSON.stringify(rec));
  await deps.redis.publish(CHANNELS_CHANNEL, key);
}

export async function createChannel(deps: Deps, who: Principal, req: ChannelRequest): Promise<ChannelView> {
  const tracks: ChannelTrack[] = [];
  for (const id of req.jobs) tracks.push(await trackOf(deps, who, id));
  // Every listener's stream is one codec from start to end (one decodable concatenation).
  const common = STREAM_CODECS.filter((c) => tracks.every((t) => t.renditions.some((r) => r.codec === c)));
  if (!common.length) throw new InvalidOptionsError("the jobs share no streamable codec (opus or aac): every track needs one in common", { jobs: req.jobs });
  const now = deps.now();
  const row: StoredChannel = { tenant: who.tenant, name: req.name, loop: req.loop !== false, jobs: req.jobs, tracks, epochMs: now, pausedSec: 0, liveSinceMs: null, tokenId: who.tokenId, createdAt: now };
  if (!(await deps.records.channels.insert(row))) throw new ConflictError(`channel ${req.name} exists`);
  audit(deps, who, "channel.create", req.name, { jobs: req.jobs });
  // The record is written; a Redis that is down learns it at the next sync (syncChannels).
  await publish(deps, recordOf(row)).catch((e) => deps.log.warn("channel not yet in Redis; the next sync puts it there", { channel: req.name, error: e }));
  return (await viewChannels(deps, [row]))[0]!;
}

/** The channel of `name` the principal may see: its own tenant's, or for an admin any tenant's. */
export async function findChannel(deps: Pick<ServiceDeps, "records">, who: Principal, name: string): Promise<StoredChannel> {
  const own = await deps.records.channels.get(who.tenant, name);
  if (own) return own;
  if (isAdmin(who)) {
    const any = (await deps.records.channels.list(null)).filter((c) => c.name === name);
    if (any.length === 1) return any[0]!;
  }
  throw new NotFoundError(`no channel ${name}`);
}

export async function removeChannel(deps: Deps, who: Principal, name: string): Promise<void> {
  const row = await findChannel(deps, who, name);
  await deps.records.channels.delete(row.tenant, row.name);
  audit(deps, who, "channel.delete", name);
  const key = channelKey(row.tenant, row.name);
  await deps.redis.hdel(CHANNELS_KEY, key).then(() => deps.redis.publish(CHANNELS_CHANNEL, key)).catch((e) => deps.log.warn("channel still in Redis; the next sync removes it", { channel: name, error: e }));
}

/** The live record (Redis holds the clock a broadcast changed), else the stored one. */
async function liveRecords(deps: Deps, rows: StoredChannel[]): Promise<ChannelRecord[]> {
  const texts = rows.length ? await deps.redis.hmget(CHANNELS_KEY, ...rows.map((r) => channelKey(r.tenant, r.name))).catch(() => rows.map(() => null)) : [];
  return rows.map((r, i) => {
    const parsed = texts[i] ? (JSON.parse(texts[i]!) as unknown) : null;
    return Value.Check(ChannelRecord, parsed) ? parsed : recordOf(r);
  });
}

export async function viewChannels(deps: Deps, rows: StoredChannel[]): Promise<ChannelView[]> {
  const now = deps.now();
  const recs = await liveRecords(deps, rows);
  const counts = await readListeners(deps.redis, recs.map((r) => channelKey(r.tenant, r.name)), now).catch(() => new Map<string, number>());
  return recs.map((rec, i) => {
    const clock = { ...rec, tracksSec: rec.tracks.map((t) => t.durationSec) };
    const at = rec.liveSinceMs === null ? locate(clock, playlistSec(clock, now)) : null;
    const t = at ? rec.tracks[at.index]! : null;
    return {
      name: rec.name,
      jobs: rows[i]!.jobs,
      loop: rec.loop,
      createdAt: new Date(rec.createdAt).toISOString(),
      live: rec.liveSinceMs !== null,
      nowPlaying: at && t ? { jobId: t.jobId, title: t.title, index: at.index, positionSec: Math.round(at.offsetSec * 1000) / 1000, durationSec: t.durationSec } : null,
      listeners: counts.get(channelKey(rec.tenant, rec.name)) ?? 0,
    };
  });
}

export async function listChannelViews(deps: Deps, who: Principal): Promise<ChannelView[]> {
  return viewChannels(deps, await deps.records.channels.list(isAdmin(who) ? null : who.tenant));
}

const sessionView = (r: StoredListenerSession): ListenerSession => ({
  id: r.id,
  channel: r.channel,
  node: r.node,
  codec: r.codec,
  bitrate: r.bitrateKbps,
  startedAt: new Date(r.startedAt).toISOString(),
  endedAt: r.endedAt === null ? null : new Date(r.endedAt).toISOString(),
  bytes: r.bytes,
  endReason: r.endReason,
});

export async function listListeners(deps: Deps, who: Principal, name: string, limit = 100, before?: number): Promise<ListenerSession[]> {
  const row = await findChannel(deps, who, name);
  return (await deps.records.channels.listSessions(row.tenant, row.name, Math.min(Math.max(limit, 1), 1000), before)).map(sessionView);
}

/** A recorded broadcast becomes an audio job of its broadcaster (renditions, waveform as usual). */
async function submitBroadcast(deps: ServiceDeps, r: Extract<ChannelReport, { kind: "broadcast" }>): Promise<void> {
  const who: Principal = { ...r.principal, scopes: r.principal.scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)) };
  const request = { type: "audio" as const, metadata: { channel: r.channel, broadcast: true } };
  try {
    const checked = checkRequest(request);
    await submitJob(deps, { ...checked, source: { kind: "upload", bytes: r.bytes, mime: r.mime, filename: `${r.channel}-live.webm` }, id: r.jobId }, who);
  } catch (e) {
    deps.log.error("recorded broadcast not submitted", { jobId: r.jobId, channel: r.channel, error: e });
  }
}

/** Applies what monitors reported (listener sessions, clock changes); returns how many. */
export async function drainChannelReports(deps: ServiceDeps, max = 1000): Promise<number> {
  const [[, items]] = ((await deps.redis.multi().lrange(CHANNEL_REPORTS_KEY, 0, max - 1).ltrim(CHANNEL_REPORTS_KEY, max, -1).exec()) ?? [[null, []]]) as [[unknown, string[]]];
  if (!items?.length) return 0;
  const sessions: StoredListenerSession[] = [];
  // Oldest first (monitors RPUSH), so a session's end follows its start.
  for (const text of items) {
    let r: unknown;
    try {
      r = JSON.parse(text);
    } catch {
      r = null;
    }
    if (!Value.Check(ChannelReport, r)) {
      deps.log.warn("channel report ignored: bad shape", { text: text.slice(0, 200) });
      continue;
    }
    if (r.kind === "clock") await deps.records.channels.setClock(r.tenant, r.channel, r.pausedSec, r.liveSinceMs);
    else if (r.kind === "broadcast") await submitBroadcast(deps, r);
    else {
      const { kind: _, ...s } = r;
      sessions.push(s);
    }
  }
  await deps.records.channels.upsertSessions(sessions);
  return items.length;
}

/**
 * Puts every stored channel into Redis where it is missing (after a restart, or a Redis that
 * lost its data) and drops the ones no longer stored. A record Redis still has is kept: its
 * clock may be newer (a broadcast) than the stored one.
 */
export async function syncChannels(deps: Deps): Promise<void> {
  const rows = await deps.records.channels.list(null);
  const keep = new Set(rows.map((r) => channelKey(r.tenant, r.name)));
  for (const r of rows) await publish(deps, recordOf(r), true);
  const inRedis = await deps.redis.hkeys(CHANNELS_KEY);
  for (const k of inRedis) if (!keep.has(k)) await deps.redis.hdel(CHANNELS_KEY, k).then(() => deps.redis.publish(CHANNELS_CHANNEL, k));
}

/** The api role's loop: drain reports every second, sync every 30 s. */
export function startChannelKeeping(deps: ServiceDeps): { stop(): Promise<void> } {
  let stopped = false;
  let last = 0;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = (async () => {
      try {
        while ((await drainChannelReports(deps)) > 0 && !stopped);
        if (deps.now() - last > 30_000) {
          await syncChannels(deps);
          last = deps.now();
        }
      } catch (e) {
        deps.log.warn("channel keeping failed; retrying", { error: e });
      }
    })();
  };
  tick();
  const timer = setInterval(tick, 1000);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await drainChannelReports(deps).catch(() => 0);
    },
  };
}
