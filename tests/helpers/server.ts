// A real node (api + worker roles) on port 0, temp data dir, private Redis.
import { loadConfig } from "../../src/config/load";
import type { Config } from "../../src/config/schema";
import { createLogger } from "../../src/log";
import { startServe, type Running } from "../../src/roles/serve";
import { startTestRedis, type TestRedis } from "./redis";
import { tempDir } from "./tmp";

export interface TestNode {
  node: Running;
  redis: TestRedis;
  dataDir: string;
  config: Config;
  token: string;
  url: string;
  /** fetch against the node with the admin token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export async function startTestNode(
  overrides: Partial<Record<string, string>> = {},
  // reconcileMs: tests reconcile every second to see repairs soon; benchmarks pass serve's own default.
  o: { redis?: TestRedis; dataDir?: string; reconcileMs?: number; retentionFirstMs?: number } = {},
): Promise<TestNode> {
  const redis = o.redis ?? (await startTestRedis());
  const dir = o.dataDir ? null : tempDir();
  const dataDir = o.dataDir ?? dir!.path;
  const config = loadConfig({
    env: {
      REDIS_URL: redis.url,
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
  const node = await startServe(config, log, { reconcileMs: o.reconcileMs ?? 1000, retentionFirstMs: o.retentionFirstMs });
  const token = node.adminToken ?? (await Bun.file(`${dataDir}/admin.token`).text()).trim();
  const url = node.url;
  return {
    node,
    redis,
    dataDir,
    config,
    token,
    url,
    api: (path, init = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } }),
    async stop() {
      await node.stop(1000);
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
