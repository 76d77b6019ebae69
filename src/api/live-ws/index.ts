// /v1/channels/:name/live (SPEC §12): a broadcaster's WebSocket, a monitor-role plugin. Binary
// messages are its WebM/Opus or Ogg/Opus (MediaRecorder chunks); ffmpeg remuxes them into Ogg
// Opus (media/live-remux.ts) and, when the channel's tracks are also AAC, a second ffmpeg
// encodes them to ADTS AAC; the packets and frames go to the channel's listeners of that codec
// on this node at once and to the other monitors over Redis. The playlist stands still meanwhile (channels/clock.ts)
// and resumes when the broadcaster stops; the broadcast, recorded as it came, is then
// submitted as an audio job by the api role, and the broadcaster is told its id.
import type { Server, ServerWebSocket } from "bun";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type IORedis from "ioredis";
import { MedianodeError } from "../../errors";
import { endLive, goLive } from "../../channels/clock";
import { createAdtsFrameStream, parseAdtsFrames } from "../../channels/adts";
import type { TrackLibrary } from "../../channels/library";
import { createOggPageStream, sniffLiveInput } from "../../channels/live-input";
import { oggPackets, opusPacketSamples, parseOpusHead } from "../../channels/ogg";
import type { ChannelRegistry } from "../../channels/registry";
import { liveAacKbps, renditionFor } from "../../channels/rendition";
import { channelKey, type ChannelRecord, type ChannelReport } from "../../channels/schema";
import type { StreamCodec, TrackFrame } from "../../channels/track";
import { newJobId } from "../../ids";
import type { Logger } from "../../log";
import { startLiveRemux, type LiveRemux } from "../../media/live-remux";
import { publishLiveAudio, pushReport, releaseLiveLock, renewLiveLock, subscribeLiveAudio, takeLiveLock } from "../../channels/cluster";
import type { Principal } from "../../services/deps";
import type { LocalMediaStore } from "../../storage/local";
import type { MediaFiles } from "../../storage/media-files";
import { requireScope } from "../auth";
import type { WsData } from "../events-ws/hub";
import { refuseUpgrade, type SocketPlugin } from "../ws-plugin";
import type { StreamHub } from "../stream-ws/index";

const LOCK_MS = 10_000;
/** A broadcast larger than this is cut (about 9 hours of 128 kbps). */
const MAX_BROADCAST_BYTES = 512 * 1024 * 1024;

export const LIVE_CLOSE = { done: 1000, going: 1001, badMessage: 4400, notMedia: 4415, tooLarge: 4413, failed: 4500 } as const;

export interface Broadcaster {
  principal: Principal;
  key: string;
  name: string;
  jobId: string;
  file: string;
  sink: ReturnType<ReturnType<typeof Bun.file>["writer"]> | null;
  /** Bytes held until the input's kind is known and the remux runs. */
  sniffed: Uint8Array[];
  /** The remux is being started: bytes go to `sniffed` meanwhile. */
  starting: boolean;
  remux: LiveRemux | null;
  /** The ADTS AAC encode for the channel's AAC listeners (null: the channel has no AAC). */
  aac: LiveRemux | null;
  head: Uint8Array | null;
  onAir: boolean;
  bytesIn: number;
  ended: Promise<void> | null;
  lockTimer: ReturnType<typeof setInterval> | null;
}

export interface LiveHubDeps {
  registry: ChannelRegistry;
  redis: IORedis;
  /** A connection of its own for the other monitors' broadcast audio. */
  sub: IORedis;
  stream: StreamHub;
  /** The channel's tracks as loaded for listeners: the live AAC takes their sample rate. */
  library: TrackLibrary;
  /** Where the recording is written while on air (this node's disk). */
  files: LocalMediaStore;
  /**
   * The media store the recording's job reads its source from. With a bucket the recording is
   * copied in (copyIn) before the job is submitted: the worker that runs it, on any host, finds
   * it there, and this node keeps no copy.
   */
  sources: Pick<MediaFiles, "copyIn">;
  ffmpeg: string | null;
  log: Logger;
  nodeId: string;
  /** Token checks may read the records (async on PostgreSQL). */
  authenticate(req: Request): Principal | Promise<Principal>;
}

export type LiveHub = SocketPlugin;

/** The broadcaster's WebSocket, as docs/api.md names it (served by Bun's upgrade on the monitor role). */
export const LIVE_PATH = "/v1/channels/:name/live";
const PATH = /^\/v1\/channels\/([^/]{1,64})\/live$/;
const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");

interface RelayedAudio {
  node: string;
  codec: StreamCodec;
  /** Opus: the OpusHead packet (AAC frames carry their own headers). */
  head: string | null;
  frames: string[];
}

export async function createLiveHub(deps: LiveHubDeps): Promise<LiveHub> {
  const active = new Set<ServerWebSocket<WsData>>();
  await subscribeLiveAudio(deps.sub, (key, text) => {
    try {
      const m = JSON.parse(text) as RelayedAudio;
      if (m.node === deps.nodeId) return;
      const data = m.frames.map((f) => Buffer.from(f, "base64"));
      if (m.codec === "aac") deps.stream.relayLive(key, "aac", aacFramesOf(data), null);
      else if (m.head) deps.stream.relayLive(key, "opus", framesOf(data), Buffer.from(m.head, "base64"));
    } catch (e) {
      deps.log.warn("broadcast audio from another node ignored", { error: e });
    }
  });

  const send = (ws: ServerWebSocket<WsData>, m: unknown) => ws.send(JSON.stringify(m));
  const report = (r: ChannelReport) => pushReport(deps.redis, r).catch((e) => deps.log.warn("channel report lost", { error: e }));

  const setClock = async (b: Broadcaster, change: (r: ChannelRecord, now: number) => ChannelRecord) => {
    const rec = deps.registry.get(b.key);
    if (!rec) return;
    const next = change(rec, deps.registry.now());
    await deps.registry.update(next);
    await report({ kind: "clock", tenant: next.tenant, channel: next.name, pausedSec: next.pausedSec, liveSinceMs: next.liveSinceMs });
  };

  const onAir = (b: Broadcaster) => {
    if (b.onAir) return;
    b.onAir = true;
    void setClock(b, goLive).catch((e) => deps.log.warn("broadcast start not shared", { error: e }));
    deps.log.info("broadcast on air", { channel: b.name });
  };

  const onAudio = (b: Broadcaster, frames: TrackFrame[]) => {
    if (!b.head || !frames.length) return;
    onAir(b);
    deps.stream.relayLive(b.key, "opus", frames, b.head);
    const m: RelayedAudio = { node: deps.nodeId, codec: "opus", head: b64(b.head), frames: frames.map((f) => b64(f.data)) };
    publishLiveAudio(deps.redis, b.key, JSON.stringify(m)).catch(() => {});
  };

  const onAacAudio = (b: Broadcaster, frames: TrackFrame[]) => {
    if (!frames.length) return;
    onAir(b);
    deps.stream.relayLive(b.key, "aac", frames, null);
    const m: RelayedAudio = { node: deps.nodeId, codec: "aac", head: null, frames: frames.map((f) => b64(f.data)) };
    publishLiveAudio(deps.redis, b.key, JSON.stringify(m)).catch(() => {});
  };

  const pumpAac = async (b: Broadcaster, remux: LiveRemux) => {
    const frames = createAdtsFrameStream();
    for await (const chunk of remux.stdout) onAacAudio(b, aacFramesOf(frames.push(chunk).map((f) => f.data)));
  };

  /** The AAC encode's format: the first track's AAC as listeners get it (sample rate, channels), else 48 kHz stereo. */
  const aacFormat = async (b: Broadcaster) => {
    const rec = deps.registry.get(b.key);
    const kbps = rec ? liveAacKbps(rec.tracks) : null;
    if (!rec || kbps === null) return null;
    const r = renditionFor(rec.tracks[0]!, "aac", kbps);
    const t = r ? await deps.library.load(rec.tracks[0]!.jobId, r) : null;
    return { kbps, sampleRate: t?.sampleRate ?? 48000, channels: Math.min(t?.channels ?? 2, 2) };
  };

  const pump = async (b: Broadcaster, remux: LiveRemux) => {
    const pages = createOggPageStream();
    let headerPackets = 0;
    for await (const chunk of remux.stdout) {
      const packets = oggPackets(pages.push(chunk)).map((p) => p.data);
      const audio: Uint8Array[] = [];
      for (const p of packets) {
        if (headerPackets < 2) {
          if (headerPackets === 0 && parseOpusHead(p)) b.head = p;
          headerPackets++;
          continue;
        }
        audio.push(p);
      }
      onAudio(b, framesOf(audio));
    }
  };

  const begin = async (ws: ServerWebSocket<WsData>, b: Broadcaster, first: Uint8Array): Promise<boolean> => {
    b.sniffed.push(first);
    const head = Buffer.concat(b.sniffed);
    const kind = sniffLiveInput(head);
    if (kind === undefined) return true;
    b.starting = true;
    if (kind === null) {
      send(ws, { error: { code: "UNSUPPORTED_MEDIA", message: "send WebM/Opus or Ogg/Opus (what MediaRecorder makes)" } });
      ws.close(LIVE_CLOSE.notMedia, "not WebM or Ogg audio");
      return false;
    }
    if (!deps.ffmpeg) {
      ws.close(LIVE_CLOSE.failed, "no ffmpeg on this node");
      return false;
    }
    const aac = await aacFormat(b).catch(() => null);
    // Ended while the format was looked up: nothing to start.
    if (b.ended) return false;
    b.remux = startLiveRemux(deps.ffmpeg, kind);
    void pump(b, b.remux).catch((e) => deps.log.warn("broadcast remux output failed", { error: e }));
    if (aac) {
      b.aac = startLiveRemux(deps.ffmpeg, { ...kind, aac });
      void pumpAac(b, b.aac).catch((e) => deps.log.warn("broadcast AAC encode output failed", { error: e }));
    }
    // What came while the AAC format was looked up is in b.sniffed too.
    const all = Buffer.concat(b.sniffed);
    b.sniffed = [];
    b.remux.write(all);
    b.aac?.write(all);
    send(ws, { type: "live.started", channel: b.name, transcoding: !kind.opus, codecs: aac ? ["opus", "aac"] : ["opus"] });
    return true;
  };

  const finish = (ws: ServerWebSocket<WsData> | null, b: Broadcaster, why: string): Promise<void> =>
    (b.ended ??= (async () => {
      if (b.lockTimer) clearInterval(b.lockTimer);
      let code = -1;
      if (b.remux) {
        const r = b.remux;
        const t = setTimeout(() => r.kill(), 5000);
        code = await r.end();
        clearTimeout(t);
        if (code !== 0) deps.log.warn("broadcast remux failed", { channel: b.name, code, stderr: (await r.stderr()).slice(-500) });
      }
      if (b.aac) {
        const r = b.aac;
        const t = setTimeout(() => r.kill(), 5000);
        const aacCode = await r.end();
        clearTimeout(t);
        if (aacCode !== 0) deps.log.warn("broadcast AAC encode failed", { channel: b.name, code: aacCode, stderr: (await r.stderr()).slice(-500) });
      }
      await b.sink?.end();
      if (b.onAir) await setClock(b, endLive).catch((e) => deps.log.warn("broadcast end not shared", { error: e }));
      await releaseLiveLock(deps.redis, b.key).catch(() => {});
      active.delete(ws!);
      // The recording becomes an audio job (renditions, waveform as usual), submitted by the api role.
      let recorded = b.onAir && code === 0 && b.bytesIn > 0;
      let refusal = "nothing was broadcast";
      if (recorded && deps.sources.copyIn) {
        try {
          await deps.sources.copyIn(b.jobId, b.file);
          await deps.files.removeJob(b.jobId);
        } catch (e) {
          // Not submitted: a job whose source never reached the store would only fail STORAGE.
          deps.log.error("broadcast recording not stored in the media store; it is dropped", { channel: b.name, jobId: b.jobId, error: e });
          recorded = false;
          refusal = "the recording could not be stored";
        }
      }
      if (recorded) {
        await report({ kind: "broadcast", jobId: b.jobId, tenant: b.principal.tenant, principal: b.principal, channel: b.name, bytes: b.bytesIn, mime: "audio/webm" });
        deps.log.info("broadcast recorded", { channel: b.name, jobId: b.jobId, bytes: b.bytesIn, why });
      } else await deps.files.removeJob(b.jobId).catch(() => {});
      if (ws && ws.readyState === 1) {
        if (recorded) send(ws, { type: "live.recorded", channel: b.name, jobId: b.jobId });
        ws.close(recorded ? LIVE_CLOSE.done : LIVE_CLOSE.failed, recorded ? "broadcast recorded" : refusal);
      }
    })());

  const upgradeNow = async (req: Request, srv: Server<WsData>, name: string): Promise<Response | undefined> => {
    try {
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") throw new MedianodeError("BAD_REQUEST", "/v1/channels/:name/live is a WebSocket: send Upgrade: websocket");
      const principal = await deps.authenticate(req);
      requireScope(principal, "jobs:write");
      const rec = deps.registry.get(channelKey(principal.tenant, name));
      if (!rec) throw new MedianodeError("NOT_FOUND", `no channel ${name}`);
      const key = channelKey(rec.tenant, rec.name);
      const jobId = newJobId();
      // One broadcaster per channel, cluster-wide.
      if (!(await takeLiveLock(deps.redis, key, `${deps.nodeId}/${jobId}`, LOCK_MS))) throw new MedianodeError("CONFLICT", `channel ${name} already has a broadcaster`);
      const file = deps.files.sourcePath(jobId);
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      const broadcast: Broadcaster = { principal, key, name: rec.name, jobId, file, sink: Bun.file(file).writer(), sniffed: [], starting: false, remux: null, aac: null, head: null, onAir: false, bytesIn: 0, ended: null, lockTimer: null };
      broadcast.lockTimer = setInterval(() => void renewLiveLock(deps.redis, key, LOCK_MS).catch(() => {}), LOCK_MS / 3);
      if (srv.upgrade(req, { data: { principal, jobs: null, narrowOnOpen: null, broadcast } })) return undefined;
      clearInterval(broadcast.lockTimer);
      await releaseLiveLock(deps.redis, key);
      throw new MedianodeError("BAD_REQUEST", "WebSocket upgrade failed");
    } catch (e) {
      return refuseUpgrade(e);
    }
  };

  return {
    upgrade(req, srv) {
      const m = PATH.exec(new URL(req.url).pathname);
      return m ? upgradeNow(req, srv, decodeURIComponent(m[1]!)) : null;
    },
    open(ws) {
      active.add(ws);
      send(ws, { type: "live.ready", channel: ws.data.broadcast!.name, jobId: ws.data.broadcast!.jobId });
    },
    message(ws, raw) {
      const b = ws.data.broadcast!;
      if (b.ended) return;
      if (typeof raw === "string") {
        let msg: { type?: unknown } | null = null;
        try {
          msg = JSON.parse(raw) as { type?: unknown };
        } catch {
          msg = null;
        }
        if (msg?.type === "live.stop") void finish(ws, b, "stopped by the broadcaster");
        else send(ws, { error: { code: "BAD_REQUEST", message: 'binary messages are audio; the one text message is {"type":"live.stop"}' } });
        return;
      }
      const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
      b.bytesIn += bytes.length;
      if (b.bytesIn > MAX_BROADCAST_BYTES) {
        send(ws, { error: { code: "PAYLOAD_TOO_LARGE", message: "the broadcast is over its size cap" } });
        void finish(ws, b, "size cap");
        return;
      }
      b.sink?.write(bytes);
      if (b.starting && !b.remux) {
        b.sniffed.push(bytes);
        return;
      }
      if (!b.remux) {
        void begin(ws, b, bytes).catch((e) => {
          deps.log.warn("broadcast remux not started", { channel: b.name, error: e });
          void finish(ws, b, "remux not started");
        });
        return;
      }
      b.remux.write(bytes);
      b.aac?.write(bytes);
    },
    close(ws) {
      const b = ws.data.broadcast!;
      void finish(null, b, "connection closed");
    },
    async stop() {
      await Promise.all([...active].map((ws) => finish(ws, ws.data.broadcast!, "server shutting down")));
      deps.sub.disconnect();
    },
  };
}

/** ADTS frames as frames (start times do not matter live). */
function aacFramesOf(frames: Uint8Array[]): TrackFrame[] {
  return frames.map((data) => {
    const f = parseAdtsFrames(data)[0]!;
    return { data, samples: f.samples, startSec: 0, durSec: f.samples / f.sampleRate };
  });
}

/** Opus packets as frames (durations from their TOC; start times do not matter live). */
function framesOf(packets: Uint8Array[]): TrackFrame[] {
  return packets.map((data) => {
    const samples = opusPacketSamples(data);
    return { data, samples, startSec: 0, durSec: samples / 48000 };
  });
}
