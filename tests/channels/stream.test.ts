// Channels and /v1/stream on a real node (api + worker + monitor, private Redis): real audio
// jobs from lavfi tones, real WebSocket listeners, what they receive decoded by ffmpeg.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseOggPages } from "../../src/channels/ogg";
import { createToken } from "../../src/services/tokens";
import { startTestNode, type TestNode } from "../helpers/server";
import { audioJob, decode, listen, makeTone, probeCodec, type Listener } from "../helpers/stream";
import { tempDir } from "../helpers/tmp";
import { wsRefusal } from "../helpers/ws";

let t: TestNode;
const dir = tempDir();
let jobs: string[];
let reader: string;
let other: string;
let limited: string;

const wsUrl = (token = t.token) => `${t.url.replace("http", "ws")}/v1/stream?token=${token}`;
const post = (body: unknown, token = t.token) => fetch(`${t.url}/v1/channels`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
async function json(r: Response, status: number): Promise<Record<string, unknown>> {
  const text = await r.text();
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
const oggSeconds = (b: Uint8Array) => {
  const pages = parseOggPages(b);
  return (Number(pages[pages.length - 1]!.granule) - 312) / 48000;
};
async function save(l: Listener, name: string): Promise<string> {
  const p = join(dir.path, name);
  await Bun.write(p, l.audio());
  return p;
}

beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_STREAM_LISTENERS_PER_TOKEN: "2" });
  jobs = [await audioJob(t, makeTone(dir.path, "a.wav", 4, 440, "Tone A")), await audioJob(t, makeTone(dir.path, "b.wav", 4, 660, "Tone B"))];
  const records = await t.records();
  reader = (await createToken(records, { name: "reader", scopes: ["jobs:read"], tenant: "admin" }, "test")).token;
  other = (await createToken(records, { name: "other", scopes: ["jobs:read", "jobs:write"], tenant: "other" }, "test")).token;
  limited = (await createToken(records, { name: "limited", scopes: ["jobs:read"], tenant: "admin" }, "test")).token;
  await json(await post({ name: "radio", jobs, loop: true }), 201);
}, 120_000);
afterAll(async () => {
  await t.stop();
  dir.remove();
});

describe("channel records", () => {
  test("GET lists the channel with what plays now and its listeners; tenants are apart", async () => {
    const body = await json(await t.api("/v1/channels"), 200);
    const ch = (body.items as Record<string, unknown>[]).find((c) => c.name === "radio")!;
    expect(ch.jobs).toEqual(jobs);
    expect(ch.loop).toBe(true);
    expect(ch.live).toBe(false);
    const now = ch.nowPlaying as { jobId: string; title: string; positionSec: number; durationSec: number };
    expect(jobs).toContain(now.jobId);
    expect(["Tone A", "Tone B"]).toContain(now.title);
    expect(now.positionSec).toBeLessThan(now.durationSec);
    expect(typeof ch.listeners).toBe("number");
    const theirs = await json(await fetch(`${t.url}/v1/channels`, { headers: { authorization: `Bearer ${other}` } }), 200);
    expect(theirs.items).toEqual([]);
    // Another tenant cannot build a channel from these jobs, nor delete this one.
    expect(((await json(await post({ name: "stolen", jobs }, other), 422)).error as { code: string }).code).toBe("INVALID_OPTIONS");
    await json(await fetch(`${t.url}/v1/channels/radio`, { method: "DELETE", headers: { authorization: `Bearer ${other}` } }), 404);
  });

  test("bad requests get clear errors and change nothing", async () => {
    expect(((await json(await post({ name: "radio", jobs }), 409)).error as { code: string }).code).toBe("CONFLICT");
    await json(await post({ name: "Bad Name!", jobs }), 400);
    await json(await post({ name: "empty", jobs: [] }), 400);
    await json(await post({ name: "x", jobs, extra: 1 }), 400);
    await json(await fetch(`${t.url}/v1/channels`, { method: "POST", headers: { authorization: `Bearer ${t.token}` }, body: "{not json" }), 400);
    const unknown = await json(await post({ name: "ghost", jobs: ["01NOTAJOB"] }), 422);
    expect(JSON.stringify(unknown)).toContain("01NOTAJOB");
    await json(await post({ name: "ro", jobs }, reader), 403);
    await json(await fetch(`${t.url}/v1/channels`), 401);
    await json(await t.api("/v1/channels/nope", { method: "DELETE" }), 404);
    await json(await t.api("/v1/channels/radio/listeners?limit=x"), 400);
    const names = ((await json(await t.api("/v1/channels"), 200)).items as { name: string }[]).map((c) => c.name);
    expect(names).toEqual(["radio"]);
  });

  test("create, delete: the listener of a deleted channel is told and closed", async () => {
    await json(await post({ name: "short", jobs: [jobs[0]], loop: false }), 201);
    const l = await listen(wsUrl());
    l.send({ type: "stream.start", channel: "short" });
    await l.next((m) => m.type === "stream.metadata");
    await json(await t.api("/v1/channels/short", { method: "DELETE" }), 204);
    const c = await l.closed;
    expect(c.code).toBe(4404);
    expect(c.reason).toContain("deleted");
  });
});

describe("listening", () => {
  test("Opus: metadata, then Ogg pages that decode as one stream across a track change, with status", async () => {
    const l = await listen(wsUrl());
    l.send({ type: "stream.start", channel: "radio", bitrate: 96 });
    const first = await l.next((m) => m.type === "stream.metadata");
    expect(first).toMatchObject({ channel: "radio", codec: "opus", bitrate: 96, live: false });
    expect(jobs).toContain(first.jobId as string);
    expect(first.renditions).toContainEqual({ codec: "aac", bitrate: 128 });
    const firstArrival = Date.now();
    await Bun.sleep(400);
    // The start burst: at most 2 s of audio before real time takes over.
    expect(oggSeconds(l.audio())).toBeLessThanOrEqual(2.05 + (Date.now() - firstArrival) / 1000);
    // A track change within 4 s (tracks are 4 s long), announced by a second metadata.
    await l.next((m) => m.type === "stream.metadata" && m.jobId !== first.jobId, 8000);
    const status = await l.next((m) => m.type === "stream.status");
    expect(status).toMatchObject({ channel: "radio", live: false });
    expect(status.listeners).toBeGreaterThanOrEqual(1);
    expect(typeof status.positionSec).toBe("number");
    expect(Date.parse(status.at as string)).toBeGreaterThan(0);
    await Bun.sleep(500);
    l.send({ type: "stream.stop" });
    const c = await l.closed;
    expect(c.code).toBe(1000);
    const file = await save(l, "opus.opus");
    expect(probeCodec(file)).toEqual({ format: "ogg", codec: "opus" });
    const d = decode(file);
    expect(d.errors).toBe("");
    expect(d.seconds).toBeGreaterThan(4);
    expect(Math.abs(d.seconds - oggSeconds(l.audio()))).toBeLessThan(0.1);
    // Every page has the same serial and the sequence has no gap.
    const pages = parseOggPages(l.audio());
    expect(new Set(pages.map((p) => p.serial)).size).toBe(1);
    expect(pages.map((p) => p.seq)).toEqual(pages.map((_, i) => i));
  }, 30_000);

  test("switching bitrate mid-stream keeps the position and the stream still decodes", async () => {
    const l = await listen(wsUrl());
    l.send({ type: "stream.start", channel: "radio", bitrate: 96 });
    await l.next((m) => m.type === "stream.metadata");
    await Bun.sleep(1200);
    const before = oggSeconds(l.audio());
    const sentAt = Date.now();
    l.send({ type: "stream.start", channel: "radio", bitrate: 40 });
    const switched = await l.next((m) => m.type === "stream.metadata" && m.bitrate === 48);
    expect(switched.codec).toBe("opus");
    await Bun.sleep(1500);
    l.ws.close();
    const total = oggSeconds(l.audio());
    // No restart, no second burst: about real time since the switch, plus the lead kept ahead.
    expect(total - before).toBeLessThan((Date.now() - sentAt) / 1000 + 2.1);
    const d = decode(await save(l, "switch.opus"));
    expect(d.errors).toBe("");
  }, 30_000);

  test("AAC: the rendition closest to 128 is streamed as ADTS frames that ffmpeg decodes", async () => {
    const l = await listen(wsUrl());
    l.send({ type: "stream.start", channel: "radio", bitrate: 128 });
    const m = await l.next((x) => x.type === "stream.metadata");
    expect(m).toMatchObject({ codec: "aac", bitrate: 128 });
    await Bun.sleep(2500);
    l.ws.close();
    const file = await save(l, "aac.aac");
    expect(probeCodec(file)).toEqual({ format: "aac", codec: "aac" });
    const d = decode(file);
    expect(d.errors).toBe("");
    expect(d.seconds).toBeGreaterThan(2);
  }, 30_000);

  test("a listener that falls behind is skipped forward and told", async () => {
    const l = await listen(wsUrl());
    l.send({ type: "stream.start", channel: "radio" });
    await l.next((m) => m.type === "stream.metadata");
    await Bun.sleep(300);
    // The node runs in this process: stalling it leaves the listener ~6 s behind the clock.
    Bun.sleepSync(6000);
    const s = await l.next((m) => m.type === "stream.status" && typeof m.skippedSec === "number");
    expect(s.skippedSec as number).toBeGreaterThan(4);
    await Bun.sleep(300);
    l.ws.close();
    expect(decode(await save(l, "skip.opus")).errors).toBe("");
  }, 30_000);

  test("refusals: no token, an unknown channel, a bad message, another tenant's channel, the per-token limit", async () => {
    expect(await wsRefusal(`${t.url}/v1/stream`)).toBe(401);
    expect(await wsRefusal(`${t.url}/v1/stream?token=wrong`)).toBe(401);
    const bad = await listen(wsUrl());
    bad.send({ type: "stream.begin" });
    expect(((await bad.next((m) => "error" in m)).error as { code: string }).code).toBe("BAD_REQUEST");
    bad.send({ type: "stream.start", channel: "nope" });
    expect((await bad.closed).code).toBe(4404);
    const theirs = await listen(wsUrl(other));
    theirs.send({ type: "stream.start", channel: "radio" });
    expect((await theirs.closed).code).toBe(4404);
    // MEDIANODE_STREAM_LISTENERS_PER_TOKEN=2: the third stream of one token is refused.
    const ls = await Promise.all([0, 1, 2].map(() => listen(wsUrl(limited))));
    for (const l of ls.slice(0, 2)) {
      l.send({ type: "stream.start", channel: "radio" });
      await l.next((m) => m.type === "stream.metadata");
    }
    ls[2]!.send({ type: "stream.start", channel: "radio" });
    const c = await ls[2]!.closed;
    expect(c).toEqual({ code: 4429, reason: "too many listeners for this token" });
    for (const l of ls.slice(0, 2)) l.ws.close();
  }, 30_000);

  test("listener sessions are stored and readable; the stream metrics count them", async () => {
    const l = await listen(wsUrl());
    l.send({ type: "stream.start", channel: "radio", bitrate: 96 });
    await l.next((m) => m.type === "stream.metadata");
    await Bun.sleep(1000);
    l.ws.close();
    await l.closed;
    const sent = l.audio().length;
    let session: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !session?.endedAt; i++) {
      await Bun.sleep(200);
      const items = (await json(await t.api("/v1/channels/radio/listeners"), 200)).items as Record<string, unknown>[];
      // Newest first: this listener's session is the latest one started.
      session = items[0];
    }
    expect(session).toMatchObject({ channel: "radio", codec: "opus", bitrate: 96, endReason: "closed by the listener" });
    // Counted as sent by the server: what the listener got, plus what a pacer tick may have sent
    // after the listener's close left (under load; at most a tick's 1.5 s lead of 96 kbps).
    expect(session!.bytes as number).toBeGreaterThanOrEqual(sent);
    expect((session!.bytes as number) - sent).toBeLessThan(24 * 1024);
    expect(Date.parse(session!.endedAt as string)).toBeGreaterThanOrEqual(Date.parse(session!.startedAt as string));
    await json(await fetch(`${t.url}/v1/channels/radio/listeners`, { headers: { authorization: `Bearer ${other}` } }), 404);
    const metrics = await (await t.api("/metrics")).text();
    expect(metrics).toMatch(/medianode_stream_bytes_total\{channel="radio"\} [1-9]/);
    expect(metrics).toContain('medianode_stream_listeners{channel="radio"}');
  }, 30_000);
});
