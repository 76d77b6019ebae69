// Live audio channel helpers: short lavfi tones made into audio jobs, and a /v1/stream
// listener that keeps every JSON message and the binary audio.data in arrival order.
import { join } from "node:path";
import type { TestNode } from "./server";
import { waitForJob } from "./server";
import { oggPackets, opusPacketSamples, parseOggPages } from "../../src/channels/ogg";

/** A `sec`-second sine tone as WAV. */
export function makeTone(dir: string, name: string, sec: number, freq: number, title = name): string {
  const path = join(dir, name);
  const r = Bun.spawnSync(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", `sine=frequency=${freq}:sample_rate=48000:duration=${sec}`, "-ac", "2", "-metadata", `title=${title}`, path], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`tone failed: ${r.stderr.toString()}`);
  return path;
}

export const STREAM_RENDITIONS = [
  { codec: "opus", bitrateKbps: 96 },
  { codec: "opus", bitrateKbps: 48 },
  { codec: "aac", bitrateKbps: 128 },
];

/** Uploads a file as an audio job with streamable renditions and waits for it to complete. */
export async function audioJob(t: Pick<TestNode, "api">, file: string): Promise<string> {
  const options = encodeURIComponent(JSON.stringify({ renditions: STREAM_RENDITIONS, waveform: false }));
  const r = await t.api(`/v1/jobs?type=audio&options=${options}`, { method: "POST", body: Bun.file(file), headers: { "content-type": "audio/wav" } });
  const body = (await r.json()) as { id: string };
  if (r.status !== 202) throw new Error(`audio job refused: ${r.status} ${JSON.stringify(body)}`);
  const done = await waitForJob(t, body.id);
  if (done.status !== "completed") throw new Error(`audio job ${done.status}: ${JSON.stringify(done.error)}`);
  return body.id;
}

export type Msg = Record<string, unknown> & { type?: string };

export interface Listener {
  ws: WebSocket;
  messages: Msg[];
  /** Arrival time (ms) of each message. */
  messageAt: number[];
  /** Every audio.data message in order. */
  chunks: Uint8Array[];
  /** Arrival time (ms) of each chunk. */
  chunkAt: number[];
  closed: Promise<{ code: number; reason: string }>;
  audio(): Uint8Array;
  next(match: (m: Msg) => boolean, timeoutMs?: number): Promise<Msg>;
  send(m: unknown): void;
}

export async function listen(wsUrl: string): Promise<Listener> {
  const ws = new WebSocket(wsUrl);
  ws.binaryType = "arraybuffer";
  const messages: Msg[] = [];
  const messageAt: number[] = [];
  const chunks: Uint8Array[] = [];
  const chunkAt: number[] = [];
  const waiters: { match: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  ws.onmessage = (e) => {
    if (typeof e.data === "string") {
      const m = JSON.parse(e.data) as Msg;
      messages.push(m);
      messageAt.push(Date.now());
      for (const w of [...waiters]) if (w.match(m)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(m));
    } else {
      chunks.push(new Uint8Array(e.data as ArrayBuffer));
      chunkAt.push(Date.now());
    }
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (ws.onclose = (e) => resolve({ code: e.code, reason: e.reason })));
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`WebSocket ${wsUrl} failed to open`));
  });
  return {
    ws,
    messages,
    messageAt,
    chunks,
    chunkAt,
    closed,
    audio: () => Uint8Array.from(chunks.flatMap((c) => [...c])),
    next(match, timeoutMs = 20_000) {
      const seen = messages.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        setTimeout(() => reject(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages)}`)), timeoutMs);
      });
    },
    send: (m) => ws.send(JSON.stringify(m)),
  };
}

/** ffmpeg decodes the file to PCM: its errors (empty when clean) and the decoded seconds. */
export function decode(file: string): { errors: string; seconds: number } {
  const r = Bun.spawnSync(["ffmpeg", "-v", "error", "-i", file, "-f", "s16le", "-ac", "1", "-ar", "8000", "-"], { stdout: "pipe", stderr: "pipe" });
  return { errors: r.stderr.toString() + (r.exitCode === 0 ? "" : `exit ${r.exitCode}`), seconds: r.stdout.length / 2 / 8000 };
}

export function probeCodec(file: string): { format: string; codec: string } {
  const r = Bun.spawnSync(["ffprobe", "-v", "error", "-show_entries", "format=format_name:stream=codec_name", "-of", "json", file], { stdout: "pipe", stderr: "pipe" });
  const j = JSON.parse(r.stdout.toString() || "{}") as { format?: { format_name: string }; streams?: { codec_name: string }[] };
  return { format: j.format?.format_name ?? "", codec: j.streams?.[0]?.codec_name ?? "" };
}

/** Seconds of Opus audio in whole Ogg pages (packet durations from their TOC). */
export function opusSeconds(pages: Uint8Array): number {
  const packets = oggPackets(parseOggPages(pages)).filter((p) => !/^Opus(Head|Tags)/.test(new TextDecoder().decode(p.data.subarray(0, 8))));
  return packets.reduce((s, p) => s + opusPacketSamples(p.data), 0) / 48000;
}
