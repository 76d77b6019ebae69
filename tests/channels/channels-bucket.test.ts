// Channels with media in a bucket (SPEC §11, §12): a real node (api + worker + monitor) with
// MEDIANODE_MEDIA_URL on a real S3 server (s3rver), real audio jobs from lavfi tones, real
// WebSocket listeners. The renditions stream from the bucket objects out.json names; the node
// keeps no output on its disk, only the derived ADTS cache; a track whose object is gone is
// skipped and the channel plays the others.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAdtsFrames } from "../../src/channels/adts";
import { parseOggPages } from "../../src/channels/ogg";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { startTestS3, type TestS3 } from "../helpers/s3";
import { audioJob, listen, makeTone, opusSeconds, type Listener, type Msg } from "../helpers/stream";
import { tempDir } from "../helpers/tmp";

let s3: TestS3;
let bucket: string;
let t: TestNode;
const dir = tempDir();
let a: string;
let b: string;
let kept: string;
let gone: string;
let late: string;

const wsUrl = () => `${t.url.replace("http", "ws")}/v1/stream?token=${t.token}`;
async function channel(name: string, jobs: string[]): Promise<void> {
  const r = await t.api("/v1/channels", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name, jobs, loop: true }) });
  const text = await r.text();
  expect(r.status, text).toBe(201);
}
/** Every file under the node's data dir, relative to it. */
function localFiles(root: string): string[] {
  return (readdirSync(root, { recursive: true, withFileTypes: true }) as { isFile(): boolean; name: string; parentPath: string }[])
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)));
}
/** Listens until stream.metadata has named each of `jobIds` (each track's audio has started). */
async function hear(l: Listener, jobIds: string[]): Promise<Msg[]> {
  const seen: Msg[] = [];
  for (const id of jobIds) seen.push(await l.next((m) => m.type === "stream.metadata" && m.jobId === id, 25_000));
  return seen;
}

beforeAll(async () => {
  s3 = await startTestS3();
  bucket = s3.bucket();
  t = await startTestNode(s3.env(bucket));
  [a, b, kept, gone, late] = [
    await audioJob(t, makeTone(dir.path, "a.wav", 3, 440, "Tone A")),
    await audioJob(t, makeTone(dir.path, "b.wav", 3, 660, "Tone B")),
    await audioJob(t, makeTone(dir.path, "c.wav", 3, 550, "Tone C")),
    await audioJob(t, makeTone(dir.path, "d.wav", 3, 770, "Tone D")),
    await audioJob(t, makeTone(dir.path, "e.wav", 3, 880, "Tone E")),
  ];
  await channel("bucketed", [a, b]);
}, 180_000);
afterAll(async () => {
  await t?.stop();
  await s3?.stop();
  dir.remove();
});

describe("a channel whose media is in the bucket", () => {
  test("the outputs are in the bucket only, not on the node's disk", async () => {
    const keys = await s3.keys(bucket, `media/${a}/`);
    expect(keys.some((k) => k.endsWith(".opus") || k.endsWith(".ogg"))).toBe(true);
    expect(keys).toContain(`media/${a}/out.json`);
    expect(localFiles(t.dataDir).filter((f) => f.includes(a))).toEqual([]);
  });

  test("Opus renditions stream from the bucket: valid Ogg pages of both tracks", async () => {
    const l = await listen(wsUrl());
    l.send({ type: "stream.start", channel: "bucketed", bitrate: 96 });
    const meta = await hear(l, [a, b]);
    expect(meta.map((m) => m.codec)).toEqual(["opus", "opus"]);
    l.ws.close();
    const pages = parseOggPages(l.audio());
    expect(pages.length).toBeGreaterThan(0);
    expect(new TextDecoder().decode(pages[0]!.pieces[0]!.subarray(0, 8))).toBe("OpusHead");
    expect(opusSeconds(l.audio())).toBeGreaterThan(1);
  });

  test("AAC renditions stream as ADTS remuxed from the bucket objects; only the derived copy is on disk", async () => {
    const l = await listen(wsUrl());
    l.send({ type: "stream.start", channel: "bucketed", bitrate: 128 });
    const meta = await hear(l, [a, b]);
    expect(meta.map((m) => m.codec)).toEqual(["aac", "aac"]);
    l.ws.close();
    const frames = parseAdtsFrames(l.audio());
    expect(frames.length).toBeGreaterThan(20);
    expect(new Set(frames.map((f) => f.sampleRate)).size).toBe(1);
    const mine = localFiles(t.dataDir).filter((f) => f.includes(a) || f.includes(b));
    // The ADTS copies in <data>/cache/<jobId>/, and nothing else: no download left, no output.
    expect(mine.length).toBe(2);
    for (const f of mine) expect(f).toMatch(/^cache\/[^/]+\/[^/]+\.aac$/);
  });

  test("a track whose object was deleted is skipped; the channel plays the other", async () => {
    const objects = (await s3.keys(bucket, `media/${gone}/attempts/`)).filter((k) => !k.endsWith("/source"));
    expect(objects.length).toBeGreaterThan(0);
    const client = s3.client(bucket);
    for (const k of objects) await client.delete(k);
    await channel("holes", [kept, gone]);
    const l = await listen(wsUrl());
    l.send({ type: "stream.start", channel: "holes", bitrate: 96 });
    const first = await l.next((m) => m.type === "stream.metadata" && m.jobId === kept, 25_000);
    // Past the missing track's slot, the next lap of the one that plays.
    await l.next((m) => m.type === "stream.metadata" && m.jobId === kept && m !== first, 25_000);
    l.ws.close();
    expect(l.messages.filter((m) => m.type === "stream.metadata").map((m) => m.jobId)).not.toContain(gone);
    expect(parseOggPages(l.audio()).length).toBeGreaterThan(0);
    expect(opusSeconds(l.audio())).toBeGreaterThan(1);
    // The node is still up and answering.
    expect((await t.api("/v1/channels")).status).toBe(200);
  });

  test(
    "an unreachable bucket: the track is skipped, the node keeps answering; once the bucket is back it plays",
    async () => {
      await s3.down();
      try {
        await channel("outage", [late]);
        const l = await listen(wsUrl());
        l.send({ type: "stream.start", channel: "outage", bitrate: 96 });
        await l.next((m) => m.type === "stream.status");
        expect(l.messages.filter((m) => m.type === "stream.metadata")).toEqual([]);
        expect((await t.api("/v1/channels")).status).toBe(200);
        await s3.up();
        // Tried again after FAILED_RETRY_MS (30 s): the same listener starts hearing it.
        await l.next((m) => m.type === "stream.metadata" && m.jobId === late, 60_000);
        // The metadata precedes the track's first audio message.
        for (let i = 0; i < 200 && opusSeconds(l.audio()) === 0; i++) await Bun.sleep(50);
        l.ws.close();
        expect(opusSeconds(l.audio())).toBeGreaterThan(0);
      } finally {
        await s3.up();
      }
    },
    100_000,
  );

  test("a broadcast's recording goes into the bucket and becomes an audio job; the node keeps no copy", async () => {
    await channel("onair", [kept]);
    const file = join(dir.path, "live.webm");
    const made = Bun.spawnSync(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000:duration=2", "-c:a", "libopus", "-b:a", "64k", "-f", "webm", "-cluster_time_limit", "100", file]);
    expect(made.exitCode).toBe(0);
    const webm = new Uint8Array(await Bun.file(file).arrayBuffer());
    const br = await listen(`${t.url.replace("http", "ws")}/v1/channels/onair/live?token=${t.token}`);
    const ready = await br.next((m) => m.type === "live.ready");
    const step = Math.ceil(webm.length / 20);
    for (let i = 0; i < webm.length; i += step) {
      br.ws.send(webm.subarray(i, i + step));
      await Bun.sleep(100);
    }
    await br.next((m) => m.type === "live.started");
    br.send({ type: "live.stop" });
    const recorded = await br.next((m) => m.type === "live.recorded", 20_000);
    expect(recorded.jobId).toBe(ready.jobId);
    const id = recorded.jobId as string;
    const job = await waitForJob(t, id, 60_000);
    expect(job.status, JSON.stringify(job.error)).toBe("completed");
    expect((job.result as { durationSec: number }).durationSec).toBeGreaterThan(1.5);
    expect(await s3.keys(bucket, `media/${id}/`)).toContain(`media/${id}/source`);
    expect(localFiles(t.dataDir).filter((f) => f.includes(id))).toEqual([]);
  }, 90_000);
});
