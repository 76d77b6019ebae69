// SPEC §11, issue #14 "many api nodes": two `medianode serve --roles api,monitor` processes on
// one PostgreSQL database, one private Redis and one bucket (a real s3rver), each with a data
// dir of its own, and a worker process that has only Redis and the bucket. A video uploaded
// through one node is read, with every output, through the other, and its playback URL from
// the other plays with ffmpeg; no node keeps a media file on its disk. Every route answers for
// every job on both nodes, events of a job reach the monitor of the other node once each, the
// first admin token is made once although both start together, and when the node holding the
// cluster duties is SIGKILLed halfway through a 40-job batch, the other takes the duties over
// and every job completes, once. (Two api nodes on one shared data folder, the shared-mount
// mode, are tests/bus/cluster.test.ts's.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { existsSync, mkdirSync, readdirSync, type Dirent } from "node:fs";
import { join, relative } from "node:path";
import { corpus, CORPUS_DIR } from "../helpers/corpus";
import { startServeProcess, startWorkerProcess, type ServeProc, type WorkerProc } from "../helpers/cluster";
import { lavfiClip } from "../helpers/media";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { startTestS3, type TestS3 } from "../helpers/s3";
import { waitForJob } from "../helpers/server";
import { readmeBlock, startNginx } from "../helpers/nginx";
import { tempDir } from "../helpers/tmp";
import { wsConnect, type WsClient } from "../helpers/ws";
import { SECRET_FILES } from "../../src/storage/secret-file";

let redis: TestRedis;
let database: TestDatabase;
let sql: SQL;
let s3: TestS3;
let bucket: string;
const dir = tempDir("mn-two-api-");
/** Each process's own data dir: A's, B's, the worker's. */
const dataDirs = { a: join(dir.path, "a"), b: join(dir.path, "b"), worker: join(dir.path, "worker") };
const CLIP_SEC = 2;
let clip: string;
let nodes: ServeProc[] = [];
let worker: WorkerProc;
let token: string;
/** The video uploaded through A (its playback is tested through B). */
let videoId = "";

const TAKEN = "cluster duties taken";
/** What a node's data dir may hold with the records in PostgreSQL and the media in the bucket. */
const NOT_MEDIA = new Set(["admin.token", "vapid.json", ...Object.values(SECRET_FILES)]);
const ADMIN_PRINTED = /admin token \(printed only this once[^\n]*\n\s*(\S+)/;
const image = { type: "image", source: { path: corpus("image-png-palette.png").path }, options: { variants: [{ name: "t", size: 32 }] } };
const as = (n: ServeProc) => (path: string, init: RequestInit = {}) =>
  fetch(n.url + path, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers as Record<string, string>) } });
const submit = async (n: ServeProc, body: unknown = image) => {
  const r = await as(n)("/v1/jobs", { method: "POST", body: JSON.stringify(body) });
  expect(r.status).toBe(202);
  return ((await r.json()) as { id: string }).id;
};
const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await Bun.sleep(100);
  }
};
const eventsOf = (ws: WsClient, jobId: string, type: string) => ws.messages.filter((m) => m.jobId === jobId && m.type === type).length;

type Output = { name: string; bytes: number };
type JobView = { status: string; error?: unknown; outputs: Output[] };

/** Every file under a data dir, relative to it, sorted. */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

/** Each output of a job through a node: 200 (after the bucket's redirect, for all but playlists), its recorded size. */
async function expectOutputs(n: ServeProc, id: string, outputs: Output[]) {
  for (const o of outputs) {
    const r = await as(n)(`/v1/jobs/${id}/outputs/${o.name}`);
    expect(r.status, `${o.name} through ${n.url}`).toBe(200);
    expect((await r.arrayBuffer()).byteLength, o.name).toBe(o.bytes);
  }
}

beforeAll(async () => {
  for (const d of Object.values(dataDirs)) mkdirSync(d);
  clip = lavfiClip(join(dir.path, "clip.mp4"), { width: 320, height: 240, durationSec: CLIP_SEC });
  [redis, database, s3] = await Promise.all([startTestRedis(), createTestDatabase(), startTestS3()]);
  sql = new SQL(database.url, { max: 2 });
  bucket = s3.bucket();
  const env = {
    ...s3.env(bucket),
    DATABASE_URL: database.url,
    MEDIANODE_IMPORT_DIRS: CORPUS_DIR,
    MEDIANODE_LOG_LEVEL: "info",
    MEDIANODE_URL_ALLOWLIST: "127.0.0.1",
  };
  // Started together: both race for the first admin token, the duties lock and the signing
  // secrets (none is configured: the cluster makes each once, in PostgreSQL).
  nodes = await Promise.all([dataDirs.a, dataDirs.b].map((dataDir) => startServeProcess({ roles: "api,monitor", redisUrl: redis.url, dataDir, env, startMs: 90_000 })));
  // The token is printed by whichever node made it (and written in that node's data dir only).
  const maker = nodes.find((n) => ADMIN_PRINTED.test(n.stdout()));
  if (!maker) throw new Error(`no node printed the admin token:\n${nodes.map((n) => n.stdout()).join("\n")}`);
  token = ADMIN_PRINTED.exec(maker.stdout())![1]!;
  // Only Redis and the bucket: no DATABASE_URL, no import folder ({path} sources reach it through the bucket).
  worker = await startWorkerProcess({ redisUrl: redis.url, dataDir: dataDirs.worker, concurrency: "image=2,video=1,probe=1", env: s3.env(bucket) });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  for (const n of nodes) await n.stop();
  await sql?.close();
  await database?.drop();
  await redis?.stop();
  await s3?.stop();
  dir.remove();
});

describe("two api nodes on one PostgreSQL, one Redis and one bucket", () => {
  test("the first admin token is made once, by one of the two nodes started together, and both accept it; one node holds the duties", async () => {
    const [admins] = (await sql`SELECT COUNT(*)::int AS n FROM tokens WHERE scopes LIKE '%"admin"%'`) as { n: number }[];
    expect(admins!.n).toBe(1);
    expect(nodes.filter((n) => ADMIN_PRINTED.test(n.stdout())).length).toBe(1);
    const written = [dataDirs.a, dataDirs.b].filter((d) => existsSync(join(d, "admin.token")));
    expect(written.length).toBe(1);
    expect((await Bun.file(join(written[0]!, "admin.token")).text()).trim()).toBe(token);
    for (const n of nodes) expect((await as(n)("/v1/jobs?limit=1")).status, n.url).toBe(200);
    expect(nodes.filter((n) => n.stderr().includes(TAKEN)).length).toBe(1);
  });

  test("a video uploaded through A: the job and every output read through B, outputs in the bucket, no media on any node's disk", async () => {
    const [a, b] = nodes as [ServeProc, ServeProc];
    const options = { renditions: [240], segmentSec: 2 };
    const up = await as(a)(`/v1/jobs?type=video&options=${encodeURIComponent(JSON.stringify(options))}`, { method: "POST", body: Bun.file(clip), headers: { "content-type": "video/mp4" } });
    const body = await up.text();
    expect(up.status, body).toBe(202);
    const id = (JSON.parse(body) as { id: string }).id;
    videoId = id;
    const done = (await waitForJob({ api: as(b) }, id, 120_000)) as unknown as JobView;
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    const names = done.outputs.map((o) => o.name);
    expect(names).toContain("master.m3u8");
    expect(names).toContain("video.mp4");
    expect(names.some((n) => n.endsWith(".ts") || n.endsWith(".m4s"))).toBe(true);
    // Both nodes give the same view; every output, through either, is the size recorded.
    for (const n of nodes) expect((await (await as(n)(`/v1/jobs/${id}`)).json()) as JobView).toMatchObject({ status: "completed", outputs: done.outputs });
    await expectOutputs(b, id, done.outputs);
    // The bucket holds them: the upload and the committed attempt's files.
    const keys = await s3.keys(bucket, `media/${id}/`);
    expect(keys).toContain(`media/${id}/source`);
    for (const o of done.outputs) expect(keys.some((k) => k.includes("/attempts/") && k.endsWith(`/${o.name}`)), o.name).toBe(true);
    // No node keeps media: nothing under media/ of any data dir (staging included), and nothing
    // else but the token, secret and key files a node may make there.
    for (const [who, d] of Object.entries(dataDirs)) {
      const files = filesUnder(d);
      expect(files.filter((f) => f.startsWith("media/")), `${who}: ${files.join(", ")}`).toEqual([]);
      expect(files.filter((f) => !NOT_MEDIA.has(f)), `${who}: ${files.join(", ")}`).toEqual([]);
    }
  }, 180_000);

  test("the playback URL of that video from B plays with ffmpeg, for the clip's length", async () => {
    const b = nodes[1]!;
    expect(videoId).not.toBe("");
    const pb = (await (await as(b)(`/v1/jobs/${videoId}/playback`)).json()) as { hls: string | null; base: string };
    expect(pb.hls).toStartWith(b.url + "/p/");
    // Bucket mode's two ways of serving: the playlist streamed by B (its relative URIs resolve
    // against B's /p/ URL), a segment by a redirect to the bucket.
    const master = await fetch(pb.hls!);
    expect(master.status).toBe(200);
    expect(await master.text()).toStartWith("#EXTM3U");
    const segment = ((await (await as(b)(`/v1/jobs/${videoId}`)).json()) as JobView).outputs.find((o) => /\.(ts|m4s)$/.test(o.name))!;
    const redirected = await fetch(pb.base + segment.name, { redirect: "manual" });
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get("location")).toStartWith(s3.endpoint + "/");
    // ffmpeg follows the master playlist's relative URIs: variant playlists through B, segments by the bucket's redirects.
    const p = Bun.spawn(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-progress", "pipe:1", "-i", pb.hls!, "-f", "null", "-"], { stdout: "pipe", stderr: "pipe" });
    const [code, progress, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
    expect(code, err).toBe(0);
    expect(err.trim()).toBe("");
    // The last out_time_us is how far it decoded.
    const times = [...progress.matchAll(/^out_time_us=(\d+)$/gm)].map((m) => Number(m[1]));
    expect(times.length).toBeGreaterThan(0);
    const decodedSec = times.at(-1)! / 1e6;
    expect(decodedSec).toBeGreaterThan(CLIP_SEC - 0.3);
    expect(decodedSec).toBeLessThan(CLIP_SEC + 0.5);
  }, 60_000);

  test("an image job submitted through A is read, listed and served through both; readiness names postgres and the bucket on both; records are shared", async () => {
    const [a, b] = nodes as [ServeProc, ServeProc];
    const id = await submit(a);
    const done = (await waitForJob({ api: as(b) }, id, 60_000)) as unknown as JobView;
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    expect(done.outputs.length).toBeGreaterThan(0);
    for (const n of nodes) {
      const view = (await (await as(n)(`/v1/jobs/${id}`)).json()) as { status: string; outputs: unknown[] };
      expect(view).toMatchObject({ status: "completed", outputs: done.outputs });
      const list = (await (await as(n)("/v1/jobs?limit=10")).json()) as { items: { id: string }[] };
      expect(list.items.map((j) => j.id)).toContain(id);
      await expectOutputs(n, id, done.outputs);
      expect((await as(n)("/v1/queues")).status).toBe(200);
      const ready = (await (await fetch(n.url + "/readyz")).json()) as { status: string; checks: Record<string, { ok: boolean }> };
      expect(ready.checks.postgres?.ok).toBe(true);
      expect(ready.checks.bucket?.ok).toBe(true);
      expect(ready.checks.sqlite).toBeUndefined();
    }
    // A playback URL made by one node is honoured by the other: the secret was made once, in
    // the shared records, though neither node was given one. Web Push keys likewise.
    const [secrets] = (await sql`SELECT COUNT(*)::int AS n FROM cluster_secrets`) as { n: number }[];
    expect(secrets!.n).toBe(3);
    const vapidOf = async (n: ServeProc) => ((await (await as(n)("/v1/notifications/vapid")).json()) as { publicKey: string }).publicKey;
    expect(await vapidOf(a)).toBe(await vapidOf(b));
    const pb = (await (await as(a)(`/v1/jobs/${id}/playback`)).json()) as { base: string };
    const played = await fetch(b.url + new URL(pb.base + done.outputs[0]!.name).pathname);
    expect(played.status).toBe(200);
    expect((await played.arrayBuffer()).byteLength).toBe(done.outputs[0]!.bytes);
    // Subscriptions and tokens live in the shared records too.
    const made = await as(a)("/v1/webhooks", { method: "POST", body: JSON.stringify({ url: "http://127.0.0.1:9/hook" }) });
    expect(made.status).toBe(201);
    const hook = ((await made.json()) as { id: string }).id;
    expect(((await (await as(b)("/v1/webhooks")).json()) as { items: { id: string }[] }).items.map((w) => w.id)).toContain(hook);
    expect((await as(b)(`/v1/webhooks/${hook}`, { method: "DELETE" })).status).toBe(204);
    expect(((await (await as(a)("/v1/webhooks")).json()) as { items: { id: string }[] }).items.map((w) => w.id)).not.toContain(hook);
    const audit = (await (await as(b)("/v1/audit?limit=10")).json()) as { items: { action: string; target: string }[] };
    expect(audit.items.filter((e) => e.target === hook).map((e) => e.action).sort()).toEqual(["webhook.create", "webhook.delete"]);
  }, 90_000);

  test("events of a job submitted through B reach a WebSocket on A, once each", async () => {
    const [a, b] = nodes as [ServeProc, ServeProc];
    const onA = await wsConnect(`${a.url.replace("http", "ws")}/v1/events?token=${encodeURIComponent(token)}`);
    const onB = await wsConnect(`${b.url.replace("http", "ws")}/v1/events?token=${encodeURIComponent(token)}`);
    try {
      const id = await submit(b);
      await onA.next((m) => m.jobId === id && m.type === "job.completed", 60_000);
      await onB.next((m) => m.jobId === id && m.type === "job.completed", 10_000);
      await Bun.sleep(500); // a duplicate, if any, would be right behind
      for (const ws of [onA, onB]) for (const type of ["job.queued", "job.active", "job.completed"]) expect(eventsOf(ws, id, type), `${type} on one socket`).toBe(1);
    } finally {
      onA.close();
      onB.close();
    }
  }, 90_000);

  test("the README's More nodes recipe: its nginx upstream in front of both spreads requests over A and B; jobs and events work through it", async () => {
    const [a, b] = nodes as [ServeProc, ServeProc];
    const hosts = [a, b].map((n) => new URL(n.url).host);
    // The README's upstream block, its two servers pointed at the two nodes.
    const upstream = readmeBlock("nginx", "upstream medianode_api")
      .split("\n")
      .filter((l) => !l.trim().startsWith("#"))
      .join("\n")
      .replace(/server 10\.0\.0\.11:8080;/, `server ${hosts[0]};`)
      .replace(/server 10\.0\.0\.12:8080;/, `server ${hosts[1]};`);
    expect(upstream).toContain(hosts[1]!);
    const conf = tempDir("mn-two-api-nginx-");
    const lb = await startNginx("http://medianode_api", conf.path, upstream);
    try {
      const viaLb = (path: string, init: RequestInit = {}) => fetch(lb.url + path, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });
      const ws = await wsConnect(`${lb.url.replace("http", "ws")}/v1/events?token=${encodeURIComponent(token)}`);
      try {
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) {
          const r = await viaLb("/v1/jobs", { method: "POST", body: JSON.stringify(image) });
          expect(r.status).toBe(202);
          ids.push(((await r.json()) as { id: string }).id);
        }
        for (const id of ids) await ws.next((m) => m.jobId === id && m.type === "job.completed", 60_000);
        for (const id of ids) expect(((await (await viaLb(`/v1/jobs/${id}`)).json()) as { status: string }).status).toBe("completed");
      } finally {
        ws.close();
      }
      // Round robin: each node answered some of the submissions.
      const posts = lb.accessLog().split("\n").filter((l) => l.includes(" POST /v1/jobs"));
      expect(posts.length).toBe(6);
      for (const h of hosts) expect(posts.filter((l) => l.startsWith(h + " ")).length, lb.accessLog()).toBeGreaterThan(0);
    } finally {
      await lb.stop();
      conf.remove();
    }
  }, 90_000);

  test("the duties' holder SIGKILLed halfway through a 40-job batch: the other takes the duties over, every job completes once", async () => {
    const holder = nodes.find((n) => n.stderr().includes(TAKEN))!;
    const survivor = nodes.find((n) => n !== holder)!;
    const watch = await wsConnect(`${survivor.url.replace("http", "ws")}/v1/events?token=${encodeURIComponent(token)}`);
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 40; i++) {
        if (i === 20) holder.proc.kill("SIGKILL");
        const key = `batch-${i}`;
        const to = i % 2 === 0 && holder.proc.exitCode === null && i < 20 ? holder : survivor;
        // A client whose node died retries on the other with the same idempotency key.
        const r = await as(to)("/v1/jobs", { method: "POST", body: JSON.stringify({ ...image, idempotencyKey: key }) }).catch(() => null);
        const ok = r && (r.status === 202 || r.status === 200) ? r : await as(survivor)("/v1/jobs", { method: "POST", body: JSON.stringify({ ...image, idempotencyKey: key }) });
        expect([200, 202]).toContain(ok.status);
        ids.add(((await ok.json()) as { id: string }).id);
      }
      expect(ids.size).toBe(40);
      await holder.proc.exited;
      await until("the survivor takes the duties", () => survivor.stderr().includes(TAKEN), 15_000);
      for (const id of ids) expect((await waitForJob({ api: as(survivor) }, id, 120_000)).status).toBe("completed");
      // Each one's start is recorded too, also of those whose start was reported while no node held the duties.
      const rows = (await sql`SELECT status, attempts, started_at IS NOT NULL AS started, COUNT(*)::int AS n FROM jobs WHERE idempotency_key LIKE 'batch-%' GROUP BY status, attempts, started`) as { status: string; attempts: number; started: boolean; n: number }[];
      expect(rows).toEqual([{ status: "completed", attempts: 1, started: true, n: 40 }]);
      await Bun.sleep(500);
      for (const id of ids) for (const type of ["job.active", "job.completed"]) expect(eventsOf(watch, id, type), type).toBeLessThanOrEqual(1);
      // The survivor answers on its own, including readiness; it and the worker still keep no media.
      expect((await fetch(survivor.url + "/readyz")).status).toBe(200);
      for (const d of [dataDirs[survivor === nodes[0] ? "a" : "b"], dataDirs.worker]) expect(filesUnder(d).filter((f) => !NOT_MEDIA.has(f)), d).toEqual([]);
    } finally {
      watch.close();
    }
  }, 240_000);
});
