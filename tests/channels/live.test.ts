// A broadcaster on /v1/channels/:name/live (SPEC §12): its WebM/Opus (as MediaRecorder makes)
// reaches a listener in the same Ogg stream as the playlist, the playlist resumes after it,
// and the recording becomes an audio job whose id the broadcaster is told.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { createToken } from "../../src/services/tokens";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { parseAdtsFrames } from "../../src/channels/adts";
import { audioJob, decode, listen, makeTone, opusSeconds, probeCodec, type Listener } from "../helpers/stream";
import { tempDir } from "../helpers/tmp";
import { wsRefusal } from "../helpers/ws";

let t: TestNode;
const dir = tempDir();
let reader: string;
let webm: Uint8Array;

beforeAll(async () => {
  t = await startTestNode();
  const job = await audioJob(t, makeTone(dir.path, "a.wav", 6, 440));
  const r = await t.api("/v1/channels", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "radio", jobs: [job] }) });
  expect(r.status).toBe(201);
  const records = await t.records();
  reader = (await createToken(records, { name: "reader", scopes: ["jobs:read"], tenant: "admin" }, "test")).token;
  // What a browser's MediaRecorder sends: WebM with Opus, in small clusters.
  const file = join(dir.path, "live.webm");
  const made = Bun.spawnSync(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000:duration=3", "-c:a", "libopus", "-b:a", "64k", "-f", "webm", "-cluster_time_limit", "100", file]);
  expect(made.exitCode).toBe(0);
  webm = new Uint8Array(await Bun.file(file).arrayBuffer());
}, 120_000);
afterAll(async () => {
  await t.stop();
  dir.remove();
});

const liveUrl = (name: string, token = t.token) => `${t.url.replace("http", "ws")}/v1/channels/${name}/live?token=${token}`;

async function broadcaster(name = "radio"): Promise<Listener> {
  return await listen(liveUrl(name));
}

/** Seconds of ADTS AAC audio in these bytes (whole frames). */
const aacSeconds = (b: Uint8Array) => parseAdtsFrames(b).reduce((s, f) => s + f.samples / f.sampleRate, 0);

/** The audio.data a listener got between two of its messages. */
function between(l: Listener, from: Record<string, unknown>, to: Record<string, unknown>): Uint8Array {
  const a = l.messageAt[l.messages.indexOf(from)]!;
  const b = l.messageAt[l.messages.indexOf(to)]!;
  return Uint8Array.from(l.chunks.filter((_, i) => l.chunkAt[i]! >= a && l.chunkAt[i]! < b).flatMap((c) => [...c]));
}

test("a broadcast reaches Opus and AAC listeners live, the playlist resumes after it, the recording is an audio job", async () => {
  const l = await listen(`${t.url.replace("http", "ws")}/v1/stream?token=${t.token}`);
  l.send({ type: "stream.start", channel: "radio" });
  // An AAC listener of the same channel: the broadcast is encoded to ADTS AAC for it.
  const a = await listen(`${t.url.replace("http", "ws")}/v1/stream?token=${t.token}`);
  a.send({ type: "stream.start", channel: "radio", bitrate: 128 });
  await l.next((m) => m.type === "stream.metadata" && m.live === false);
  expect((await a.next((m) => m.type === "stream.metadata" && m.live === false)).codec).toBe("aac");
  await Bun.sleep(500);
  const b = await broadcaster();
  const ready = await b.next((m) => m.type === "live.ready");
  expect(ready.channel).toBe("radio");
  // 3 s of audio in 30 chunks, sent in real time.
  const n = 30;
  const step = Math.ceil(webm.length / n);
  for (let i = 0; i < webm.length; i += step) {
    b.ws.send(webm.subarray(i, i + step));
    await Bun.sleep(100);
  }
  const started = await b.next((m) => m.type === "live.started");
  expect(started.transcoding).toBe(false);
  expect(started.codecs).toEqual(["opus", "aac"]);
  const liveMeta = await l.next((m) => m.type === "stream.metadata" && m.live === true);
  expect(liveMeta.codec).toBe("opus");
  const aacLive = await a.next((m) => m.type === "stream.metadata" && m.live === true);
  expect(aacLive.codec).toBe("aac");
  const status = await l.next((m) => m.type === "stream.status" && m.live === true, 10_000);
  expect(status.jobId).toBeNull();
  b.send({ type: "live.stop" });
  const recorded = await b.next((m) => m.type === "live.recorded");
  expect((await b.closed).code).toBe(1000);
  // The playlist resumes where it stood.
  const resumed = await l.next((m) => m.type === "stream.metadata" && m.live === false && l.messages.indexOf(m) > l.messages.indexOf(liveMeta), 10_000);
  const aacResumed = await a.next((m) => m.type === "stream.metadata" && m.live === false && a.messages.indexOf(m) > a.messages.indexOf(aacLive), 10_000);
  // What arrived between the two announcements is the broadcast: all of its 3 s (the first
  // packets switch the listener to live; none are dropped while the clock change travels).
  expect(opusSeconds(between(l, liveMeta, resumed))).toBeGreaterThan(2.9);
  // The AAC encoder holds back its last frames until the input ends, so most, not all.
  expect(aacSeconds(between(a, aacLive, aacResumed))).toBeGreaterThan(2.5);
  await Bun.sleep(800);
  l.ws.close();
  a.ws.close();
  const aacFile = join(dir.path, "heard.aac");
  await Bun.write(aacFile, a.audio());
  expect(probeCodec(aacFile)).toEqual({ format: "aac", codec: "aac" });
  const ad = decode(aacFile);
  expect(ad.errors).toBe("");
  expect(ad.seconds).toBeGreaterThan(4);
  const file = join(dir.path, "heard.opus");
  await Bun.write(file, l.audio());
  const d = decode(file);
  expect(d.errors).toBe("");
  expect(d.seconds).toBeGreaterThan(3);
  const job = await waitForJob(t, recorded.jobId as string);
  expect(job.status).toBe("completed");
  expect(job.type).toBe("audio");
  expect((job.metadata as Record<string, unknown>).channel).toBe("radio");
  expect((job.result as { durationSec: number }).durationSec).toBeGreaterThan(2.5);
}, 60_000);

test("refusals: another broadcaster while one is on (409), a read-only token (403), an unknown channel (404), bytes that are not WebM or Ogg (4415)", async () => {
  const b = await broadcaster();
  await b.next((m) => m.type === "live.ready");
  expect(await wsRefusal(`${t.url}/v1/channels/radio/live?token=${t.token}`)).toBe(409);
  expect(await wsRefusal(`${t.url}/v1/channels/radio/live?token=${reader}`)).toBe(403);
  expect(await wsRefusal(`${t.url}/v1/channels/nope/live?token=${t.token}`)).toBe(404);
  expect(await wsRefusal(`${t.url}/v1/channels/radio/live`)).toBe(401);
  b.ws.send(new TextEncoder().encode("this is not audio at all"));
  const c = await b.closed;
  expect(c.code).toBe(4415);
  // The channel is free again and still plays its playlist.
  const again = await broadcaster();
  await again.next((m) => m.type === "live.ready");
  again.send({ type: "live.stop" });
  expect((await again.closed).code).toBe(4500);
  const list = (await (await t.api("/v1/channels")).json()) as { items: { live: boolean }[] };
  expect(list.items[0]!.live).toBe(false);
}, 30_000);
