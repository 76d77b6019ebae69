// Two monitor processes on one private Redis (SPEC §12): listeners on different nodes hear the
// same position (within 0.5 s), count each other, and the channel survives an api restart
// with a Redis that lost its data (the records put it back, at the same position).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startServeProcess, type ServeProc } from "../helpers/cluster";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { audioJob, decode, listen, makeTone, type Listener, type Msg } from "../helpers/stream";
import { tempDir } from "../helpers/tmp";
import { join } from "node:path";
import IORedis from "ioredis";

let redis: TestRedis;
const dataDir = tempDir();
const work = tempDir();
const env = { MEDIANODE_LOG_LEVEL: "warn" };
let api: ServeProc;
let monitors: ServeProc[];
let token: string;
let jobs: string[];
const apiCall = (path: string, init: RequestInit = {}) => fetch(api.url + path, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers as Record<string, string>) } });

beforeAll(async () => {
  redis = await startTestRedis();
  api = await startServeProcess({ roles: "api,worker", redisUrl: redis.url, dataDir: dataDir.path, env });
  token = (await Bun.file(`${dataDir.path}/admin.token`).text()).trim();
  jobs = [await audioJob({ api: apiCall }, makeTone(work.path, "a.wav", 5, 440)), await audioJob({ api: apiCall }, makeTone(work.path, "b.wav", 5, 550))];
  const r = await apiCall("/v1/channels", { method: "POST", body: JSON.stringify({ name: "radio", jobs }) });
  expect(r.status).toBe(201);
  // Monitor-only nodes on the api's host: they read the records read-only (opaque tokens) and the media in place.
  monitors = await Promise.all([0, 1].map(() => startServeProcess({ roles: "monitor", redisUrl: redis.url, dataDir: dataDir.path, env })));
}, 120_000);

afterAll(async () => {
  for (const p of [...(monitors ?? []), api]) await p?.stop();
  await redis?.stop();
  dataDir.remove();
  work.remove();
});

/** The channel position a status message implies at `refMs` (the status says where it was at `at`). */
const positionAt = (s: Msg, refMs: number) => (s.positionSec as number) + (refMs - Date.parse(s.at as string)) / 1000;

async function tune(m: ServeProc): Promise<Listener> {
  const l = await listen(`${m.url.replace("http", "ws")}/v1/stream?token=${token}`);
  l.send({ type: "stream.start", channel: "radio", bitrate: 96 });
  await l.next((x) => x.type === "stream.metadata");
  return l;
}

test("listeners on two monitor nodes are at the same position and count each other", async () => {
  const [a, b] = await Promise.all(monitors.map(tune));
  // Statuses of the same track from both nodes, once each node has seen the other's listener.
  const both = async (l: Listener) => l.next((m) => m.type === "stream.status" && m.listeners === 2, 15_000);
  const [sa, sb] = await Promise.all([both(a!), both(b!)]);
  const ref = Date.now();
  if (sa.jobId === sb.jobId) expect(Math.abs(positionAt(sa, ref) - positionAt(sb, ref))).toBeLessThan(0.5);
  else {
    // Straddling a track change: the one further on has just started its track.
    const [early, late] = positionAt(sa, ref) > positionAt(sb, ref) ? [sa, sb] : [sb, sa];
    expect(positionAt(late, ref) + (5 - positionAt(early, ref))).toBeLessThan(0.5);
  }
  a!.ws.close();
  b!.ws.close();
  await Bun.write(join(work.path, "a.opus"), a!.audio());
  expect(decode(join(work.path, "a.opus")).errors).toBe("");
}, 60_000);

test("GET /v1/channels counts the listeners of every monitor", async () => {
  const [a, b] = await Promise.all(monitors.map(tune));
  let n = 0;
  for (let i = 0; i < 40 && n !== 2; i++) {
    await Bun.sleep(250);
    const body = (await (await apiCall("/v1/channels")).json()) as { items: { listeners: number }[] };
    n = body.items[0]!.listeners;
  }
  expect(n).toBe(2);
  a!.ws.close();
  b!.ws.close();
}, 30_000);

test("the channel survives an api restart with a Redis that lost its data, at the same position", async () => {
  const before = (await (await apiCall("/v1/channels")).json()) as { items: { nowPlaying: { positionSec: number; index: number } }[] };
  const at = Date.now();
  expect(await api.stop()).toBe(0);
  // Our private Redis: losing its data is the case the records are for.
  const conn = new IORedis(redis.url);
  expect(await conn.flushall()).toBe("OK");
  conn.disconnect();
  api = await startServeProcess({ roles: "api,worker", redisUrl: redis.url, dataDir: dataDir.path, env });
  const after = (await (await apiCall("/v1/channels")).json()) as { items: { name: string; nowPlaying: { positionSec: number; index: number } }[] };
  expect(after.items.map((c) => c.name)).toEqual(["radio"]);
  // The clock is the stored epoch: the playlist moved on by the wall time that passed (10 s loop).
  const p0 = before.items[0]!.nowPlaying.index * 5 + before.items[0]!.nowPlaying.positionSec;
  const p1 = after.items[0]!.nowPlaying.index * 5 + after.items[0]!.nowPlaying.positionSec;
  const moved = (((p1 - p0) % 10) + 10) % 10;
  const wall = ((Date.now() - at) / 1000) % 10;
  expect(Math.min(Math.abs(moved - wall), 10 - Math.abs(moved - wall))).toBeLessThan(1);
  // And the monitors stream it again from the restored record.
  const l = await tune(monitors[0]!);
  await l.next((m) => m.type === "stream.status");
  l.ws.close();
}, 60_000);
