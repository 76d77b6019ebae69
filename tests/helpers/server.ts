// A real node (api + worker roles) on port 0, temp data dir, private Redis.
import { loadConfig } from "../../src/config/load";
import type { Config } from "../../src/config/schema";
import { createLogger } from "../../src/log";
import { startServe, type Running } from "../../src/roles/serve";
import { openRecords } from "../../src/store/open";
import type { Engine, Records } from "../../src/store/records";
import { createTestDatabase, type TestDatabase } from "./postgres";
import { startTestRedis, type TestRedis } from "./redis";
import { tempDir } from "./tmp";

/** The engine of nodes a test does not pin: MEDIANODE_TEST_ENGINE (sqlite | postgres), default sqlite. */
export function testEngine(): Engine {
  const e = process.env.MEDIANODE_TEST_ENGINE ?? "sqlite";
  if (e !== "sqlite" && e !== "postgres") throw new Error(`MEDIANODE_TEST_ENGINE must be sqlite or postgres, not ${e}`);
  return e;
}

export interface TestNode {
  node: Running;
  redis: TestRedis;
  dataDir: string;
  config: Config;
  token: string;
  url: string;
  engine: Engine;
  /** The node's records through a handle of the test's own (same engine, same data). */
  records(): Promise<Records>;
  /** fetch against the node with the admin token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export async function startTestNode(
  overrides: Partial<Record<string, string>> = {},
  // reconcileMs: tests reconcile every second to see repairs soon; benchmarks pass serve's own default.
  // engine: where the records live; "postgres" makes a database of this node's own (dropped at
  // stop) unless DATABASE_URL is among the overrides (several nodes sharing one).
  o: { redis?: TestRedis; dataDir?: string; reconcileMs?: number; retentionFirstMs?: number; engine?: Engine } = {},
): Promise<TestNode> {
  const redis = o.redis ?? (await startTestRedis());
  const dir = o.dataDir ? null : tempDir();
  const dataDir = o.dataDir ?? dir!.path;
  const engine: Engine = overrides.DATABASE_URL ? "postgres" : (o.engine ?? testEngine());
  const database: TestDatabase | null = engine === "postgres" && !overrides.DATABASE_URL ? await createTestDatabase() : null;
  const config = loadConfig({
    env: {
      REDIS_URL: redis.url,
      ...(database ? { DATABASE_URL: database.url } : {}),
      MEDIANODE_DATA_DIR: dataDir,
      MEDIANODE_PORT: "0",
      MEDIANODE_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "error",
      // Tests poll hard from one address; the rate-limit tests turn these back on.
      MEDIANODE_RATE_LIMIT_PER_TOKEN: "0",
      MEDIANODE_RATE_LIMIT_PER_IP: "0",
      ...overrides,
    },
    file: "/nonexistent",
  });
  const log = createLogger({ level: config.logLevel, format: "pretty" });
  const node = await startServe(config, log, { reconcileMs: o.reconcileMs ?? 1000, retentionFirstMs: o.retentionFirstMs }).catch(async (e) => {
    await database?.drop();
    throw e;
  });
  const token = node.adminToken ?? (await Bun.file(`${dataDir}/admin.token`).text()).trim();
  const url = node.url;
  let mine: Promise<Records> | null = null;
  return {
    node,
    redis,
    dataDir,
    config,
    token,
    url,
    engine,
    records: () => (mine ??= openRecords(config)),
    api: (path, init = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } }),
    async stop() {
      await node.stop(1000);
      if (mine) await (await mine).close();
      await database?.drop();
      if (!o.redis) await redis.stop();
      dir?.remove();
    },
  };
}

/** Polls a job until it is terminal (or the timeout passes) and returns its JSON. */
export async function waitForJob(t: Pick<TestNode, "api">, id: string, timeoutMs = 60_000): Promise<Record<string, unknown> & { status: string }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await t.api(`/v1/jobs/${id}`);
    const j = (await r.json()) as Record<string, unknown> & { status: string };
    if (["completed", "failed", "cancelled"].includes(j.status)) return j;
    if (Date.now() > until) throw new Error(`job ${id} still ${j.status} after ${timeoutMs} ms: ${JSON.stringify(j)}`);
    await Bun.sleep(100);
  }
}

export { CORPUS_DIR as CORPUS } from "./corpus";

/**
 * The store of a node that a test stops and starts again: a data dir, plus (engine postgres)
 * a database of its own whose DATABASE_URL goes into every start's overrides.
 */
export async function testStore(engine: Engine = testEngine()) {
  const dir = tempDir();
  const database = engine === "postgres" ? await createTestDatabase() : null;
  const overrides: Record<string, string> = database ? { DATABASE_URL: database.url } : {};
  const config = loadConfig({ env: { MEDIANODE_DATA_DIR: dir.path, ...overrides }, file: "/nonexistent" });
  return {
    dataDir: dir.path,
    engine,
    /** Env for the nodes on this store (merge into startTestNode's overrides or a process env). */
    overrides,
    /** A handle on the store's records (the caller closes it). */
    open: () => openRecords(config),
    async remove() {
      await database?.drop();
      dir.remove();
    },
  };
}
