import { afterAll, beforeAll, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load";
import { createLogger } from "../../src/log";
import { startServe } from "../../src/roles/serve";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { startTestNode, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";
import { wsConnect } from "../helpers/ws";

let redis: TestRedis;
let api: TestNode;
beforeAll(async () => {
  redis = await startTestRedis();
  api = await startTestNode({ MEDIANODE_ROLES: "api,monitor,metrics" }, { redis });
});
afterAll(async () => {
  await api.stop();
  await redis.stop();
});

type NodeView = { id: string; host: string; roles: string[]; concurrency: Record<string, number>; activeJobs: number; version: string; ffmpegVersion: string | null; encoders: string[]; freeDiskBytes: number | null };

test("nodes advertise roles, concurrency, version, ffmpeg and its encoders; online and offline are events", async () => {
  const events = await wsConnect(`${api.url.replace("http", "ws")}/v1/events?token=${api.token}`);
  const dir = tempDir();
  const worker = await startServe(
    loadConfig({ env: { REDIS_URL: redis.url, MEDIANODE_DATA_DIR: dir.path, MEDIANODE_PORT: "0", MEDIANODE_ROLES: "worker", MEDIANODE_CONCURRENCY: "video=2,image=3" }, file: "/nonexistent" }),
    createLogger({ level: "error" }),
  );
  try {
    const online = await events.next((m) => m.type === "node.online" && m.node === worker.nodeId);
    expect(online.at).toBeString();
    const list = (await (await api.api("/v1/nodes")).json()) as { items: NodeView[] };
    const w = list.items.find((n) => n.id === worker.nodeId)!;
    expect(w.roles).toEqual(["worker"]);
    expect(w.concurrency.video).toBe(2);
    expect(w.concurrency.image).toBe(3);
    expect(w.encoders).toContain("libx264");
    expect(w.ffmpegVersion).toMatch(/^\d/);
    expect(w.freeDiskBytes).toBeGreaterThan(0);
    expect(w.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(list.items.find((n) => n.id === api.node.nodeId)!.roles).toEqual(["api", "monitor", "metrics"]);
    // A worker-only process answers health, readiness and metrics on its own port, without a token.
    const ops = `http://127.0.0.1:${worker.port}`;
    expect((await fetch(ops + "/healthz")).status).toBe(200);
    const ready = (await (await fetch(ops + "/readyz")).json()) as { status: string; checks: Record<string, unknown> };
    expect(ready.status).toBe("ready");
    expect(Object.keys(ready.checks).sort()).toEqual(["disk", "ffmpeg", "redis"]);
    expect(await (await fetch(ops + "/metrics")).text()).toContain("medianode_ffmpeg_processes");
    expect((await fetch(ops + "/v1/jobs")).status).toBe(404);
  } finally {
    await worker.stop(500);
    dir.remove();
  }
  await events.next((m) => m.type === "node.offline" && m.node === worker.nodeId);
  const after = (await (await api.api("/v1/nodes")).json()) as { items: NodeView[] };
  expect(after.items.map((n) => n.id)).not.toContain(worker.nodeId);
  events.close();
});
