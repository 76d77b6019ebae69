// SPEC §13 "any api node runs it (once per message, not once per node)": two serve processes
// (api + monitor) on one PostgreSQL and one Redis, both bridged to the same bus, and a worker.
// Jobs come in over the bus (both nodes consume the one queue / durable consumer) and over
// HTTP; every job's job.active, job.completed and media.ready reach the bus exactly once, and
// the worker's node.online once (published by the duties' holder only).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { amqpProbe, AMQP_PORT, natsProbe, NATS_PORT, until, type BusProbe } from "../helpers/bus";
import { startServeProcess, startWorkerProcess, type ServeProc, type WorkerProc } from "../helpers/cluster";
import { corpus, CORPUS_DIR } from "../helpers/corpus";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { tempDir } from "../helpers/tmp";

const SOURCE = corpus("audio-aac-adts.aac").path;

describe.each([
  ["amqp", amqpProbe, AMQP_PORT],
  ["nats", natsProbe, NATS_PORT],
] as const)("two api nodes bridged to %s", (_kind, makeProbe, port) => {
  let redis: TestRedis;
  let database: TestDatabase;
  let bus: BusProbe;
  let nodes: ServeProc[] = [];
  let worker: WorkerProc | null = null;
  let token = "";
  const dir = tempDir("mn-bus-cluster-");

  beforeAll(async () => {
    redis = await startTestRedis();
    database = await createTestDatabase();
    bus = await makeProbe();
    const env = {
      DATABASE_URL: database.url,
      MEDIANODE_IMPORT_DIRS: CORPUS_DIR,
      MEDIANODE_PLAYBACK_SECRET: "playback-secret-shared-by-both-api-nodes",
      MEDIANODE_WEBHOOK_SECRET: "webhook-secret-shared-by-both-api-nodes",
      MEDIANODE_BUS_URL: bus.nodeUrl(port),
      MEDIANODE_BUS_PREFIX: bus.prefix,
      MEDIANODE_BUS_PREFETCH: "4",
    };
    nodes = await Promise.all([0, 1].map(() => startServeProcess({ roles: "api,monitor", redisUrl: redis.url, dataDir: dir.path, env, startMs: 90_000 })));
    token = (await Bun.file(`${dir.path}/admin.token`).text()).trim();
    for (const n of nodes) await until("the bridge", async () => ((await (await fetch(`${n.url}/readyz`)).json()) as { checks: { bus?: { ok: boolean } } }).checks.bus?.ok === true);
    await bus.ready();
    worker = await startWorkerProcess({ redisUrl: redis.url, dataDir: dir.path, concurrency: "probe=2", env: { MEDIANODE_IMPORT_DIRS: CORPUS_DIR } });
  }, 150_000);

  afterAll(async () => {
    await worker?.stop();
    for (const n of nodes) await n.stop();
    await bus?.remove();
    await database?.drop();
    await redis?.stop();
    dir.remove();
  }, 60_000);

  test("each event of each job is published once across the cluster", async () => {
    const body = JSON.stringify({ type: "probe", source: { path: SOURCE } });
    for (let i = 0; i < 20; i++) await bus.publishJob(body, { token, messageId: `c-${i}`, reply: true, correlationId: `c-${i}` });
    const http: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${nodes[i % 2]!.url}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body });
      expect(r.status).toBe(202);
      http.push(((await r.json()) as { id: string }).id);
    }
    await until("20 bus replies", () => bus.replies().filter((r) => r.correlationId?.startsWith("c-")).length === 20, 60_000);
    const ids = [...bus.replies().map((r) => r.body.id as string), ...http];
    expect(new Set(ids).size).toBe(26);
    const count = (id: string, key: string) => bus.events().filter((e) => e.body.jobId === id && e.key === key).length;
    await until("every media.ready", () => ids.every((id) => count(id, "media.ready") >= 1), 90_000);
    // Late duplicates would come within moments (another node's recorder, a second relay).
    await Bun.sleep(1500);
    for (const id of ids) expect(`${id}: ${["job.active", "job.completed", "media.ready"].map((k) => count(id, k)).join(",")}`).toBe(`${id}: 1,1,1`);
    const online = bus.events().filter((e) => e.key === "node.online" && e.body.node === worker!.nodeId);
    expect(online).toHaveLength(1);
    expect(await bus.backlog()).toBe(0);
  }, 150_000);
});
