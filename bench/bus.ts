// Issue 19 benchmark "bus": trivial probe jobs submitted over the message bus vs over HTTP, on
// the same node in the same run, per bus (RabbitMQ, NATS JetStream); and how long an event
// takes from its emission (its `at`) to a consumer on the bus (p50/p99).
// One real `serve` process (api + worker, probe=4) per bus, on a private Redis; the probe
// source is a small AAC file served over HTTP from this process (allow-listed), so intake
// does no ffprobe and the worker's probe reads a few KiB.
import { loadavg } from "node:os";
import { join } from "node:path";
import { amqpProbe, AMQP_PORT, natsProbe, NATS_PORT, until, type BusProbe } from "../tests/helpers/bus";
import { startServeProcess, type ServeProc } from "../tests/helpers/cluster";
import { corpus } from "../tests/helpers/corpus";
import { startTestRedis } from "../tests/helpers/redis";
import { tempDir } from "../tests/helpers/tmp";
import type { Result } from "./lib/result";

const JOBS = Number(process.env.BENCH_BUS_JOBS ?? 300);
const HTTP_CONCURRENCY = 32;

interface Pass {
  path: "http" | "amqp" | "nats";
  jobs: number;
  /** Until every job was accepted (202, or the bus reply). */
  acceptSec: number;
  /** Until every job's job.completed reached the bus consumer. */
  completeSec: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

function serveSource() {
  const file = Bun.file(corpus("audio-aac-adts.aac").path);
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(file) });
  return { url: `http://127.0.0.1:${server.port}/clip.aac`, stop: () => server.stop(true) };
}

async function onBus(kind: "amqp" | "nats", sourceUrl: string): Promise<{ passes: Pass[]; latenciesMs: number[] }> {
  const redis = await startTestRedis();
  const bus: BusProbe = kind === "amqp" ? await amqpProbe() : await natsProbe();
  const dir = tempDir();
  let node: ServeProc | null = null;
  try {
    node = await startServeProcess({
      roles: "api,worker",
      redisUrl: redis.url,
      dataDir: join(dir.path, "data"),
      env: { MEDIANODE_BUS_URL: bus.nodeUrl(kind === "amqp" ? AMQP_PORT : NATS_PORT), MEDIANODE_BUS_PREFIX: bus.prefix, MEDIANODE_URL_ALLOWLIST: "127.0.0.1", MEDIANODE_CONCURRENCY: "probe=4", MEDIANODE_LOG_LEVEL: "error" },
    });
    const n = node;
    const token = (await Bun.file(join(dir.path, "data", "admin.token")).text()).trim();
    await until("the bridge", async () => ((await (await fetch(`${n.url}/readyz`)).json()) as { checks: { bus?: { ok: boolean } } }).checks.bus?.ok === true);
    await bus.ready();
    const body = (marker: string) => JSON.stringify({ type: "probe", source: { url: sourceUrl }, metadata: { marker } });
    const completedOf = (marker: string) => bus.events().filter((e) => e.key === "job.completed" && (e.body.jobId as string) && markers.get(e.body.jobId as string) === marker).length;
    const markers = new Map<string, string>();

    const viaHttp = async (marker: string, jobs: number) => {
      let next = 0;
      const loop = async () => {
        while (next < jobs) {
          next++;
          const r = await fetch(`${n.url}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body(marker) });
          if (r.status !== 202) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
          markers.set(((await r.json()) as { id: string }).id, marker);
        }
      };
      await Promise.all(Array.from({ length: HTTP_CONCURRENCY }, loop));
    };
    const viaBus = async (marker: string, jobs: number) => {
      for (let i = 0; i < jobs; i++) await bus.publishJob(body(marker), { token, messageId: `${marker}-${i}`, reply: true, correlationId: `${marker}-${i}` });
      await until("every bus reply", () => bus.replies().filter((r) => r.correlationId?.startsWith(`${marker}-`)).length >= jobs, 120_000);
      for (const r of bus.replies()) if (r.correlationId?.startsWith(`${marker}-`)) markers.set(r.body.id as string, marker);
    };
    const pass = async (path: Pass["path"], jobs: number): Promise<Pass> => {
      const marker = `${path}-${Math.random().toString(36).slice(2, 8)}`;
      const t0 = performance.now();
      await (path === "http" ? viaHttp(marker, jobs) : viaBus(marker, jobs));
      const acceptSec = (performance.now() - t0) / 1000;
      await until("every job.completed on the bus", () => completedOf(marker) >= jobs, 180_000);
      return { path, jobs, acceptSec, completeSec: (performance.now() - t0) / 1000 };
    };
    // Warm-up, then bus and HTTP alternating so drift in the machine's load biases neither.
    await pass("http", 30);
    await pass(kind, 30);
    const warmEvents = bus.events().length;
    const passes = [await pass(kind, JOBS), await pass("http", JOBS), await pass("http", JOBS), await pass(kind, JOBS)];
    const latenciesMs = bus.events().slice(warmEvents).map((e) => e.receivedAt - Date.parse(e.body.at as string));
    return { passes, latenciesMs };
  } finally {
    await node?.stop();
    await bus.remove();
    await redis.stop();
    dir.remove();
  }
}

export async function run(): Promise<Result> {
  const load0 = loadavg()[0]!;
  const source = serveSource();
  try {
    const amqp = await onBus("amqp", source.url);
    const nats = await onBus("nats", source.url);
    const rate = (ps: Pass[], path: Pass["path"], f: (p: Pass) => number) => {
      const mine = ps.filter((p) => p.path === path);
      return mine.reduce((a, p) => a + p.jobs, 0) / mine.reduce((a, p) => a + f(p), 0);
    };
    const fig = (r: { passes: Pass[] }, path: "amqp" | "nats") => ({
      busDone: rate(r.passes, path, (p) => p.completeSec),
      httpDone: rate(r.passes, "http", (p) => p.completeSec),
      busAccept: rate(r.passes, path, (p) => p.acceptSec),
      httpAccept: rate(r.passes, "http", (p) => p.acceptSec),
    });
    const a = fig(amqp, "amqp");
    const n = fig(nats, "nats");
    return {
      name: "bus",
      description:
        `${JOBS} probe jobs (URL source: an 18 KiB AAC served by the bench process, allow-listed) per pass, 2 passes over the bus and 2 over HTTP (alternating) on one real serve process (api + worker, probe=4) per bus, after 30-job warm-ups. ` +
        `HTTP: POST /v1/jobs from ${HTTP_CONCURRENCY} concurrent fetch loops. Bus: every message published at once (message id, authorization header, reply address), accepted = its reply. ` +
        `Done = every job.completed received by a consumer on the bus (HTTP jobs' events too). Event latency: consumer receive time minus the event's at, every event of the measured passes.`,
      metrics: [
        { label: "RabbitMQ: jobs/s done over the bus", value: a.busDone, unit: "jobs/s" },
        { label: "RabbitMQ node: jobs/s done over HTTP", value: a.httpDone, unit: "jobs/s" },
        { label: "RabbitMQ: jobs/s accepted over the bus", value: a.busAccept, unit: "jobs/s" },
        { label: "RabbitMQ node: jobs/s accepted over HTTP", value: a.httpAccept, unit: "jobs/s" },
        { label: "RabbitMQ: event latency p50", value: quantile(amqp.latenciesMs, 0.5), unit: "ms" },
        { label: "RabbitMQ: event latency p99", value: quantile(amqp.latenciesMs, 0.99), unit: "ms" },
        { label: "NATS: jobs/s done over the bus", value: n.busDone, unit: "jobs/s" },
        { label: "NATS node: jobs/s done over HTTP", value: n.httpDone, unit: "jobs/s" },
        { label: "NATS: jobs/s accepted over the bus", value: n.busAccept, unit: "jobs/s" },
        { label: "NATS node: jobs/s accepted over HTTP", value: n.httpAccept, unit: "jobs/s" },
        { label: "NATS: event latency p50", value: quantile(nats.latenciesMs, 0.5), unit: "ms" },
        { label: "NATS: event latency p99", value: quantile(nats.latenciesMs, 0.99), unit: "ms" },
      ],
      ratios: [
        { label: "RabbitMQ bus/HTTP jobs/s done", value: a.busDone / a.httpDone },
        { label: "NATS bus/HTTP jobs/s done", value: n.busDone / n.httpDone },
        { label: "RabbitMQ bus/HTTP jobs/s accepted", value: a.busAccept / a.httpAccept },
        { label: "NATS bus/HTTP jobs/s accepted", value: n.busAccept / n.httpAccept },
      ],
      notes: [
        ...[...amqp.passes.map((p) => ["RabbitMQ", p] as const), ...nats.passes.map((p) => ["NATS", p] as const)].map(([b, p]) => `${b} node, ${p.path}: ${p.jobs} accepted in ${p.acceptSec.toFixed(2)} s, done in ${p.completeSec.toFixed(2)} s`),
        `Events measured: RabbitMQ ${amqp.latenciesMs.length}, NATS ${nats.latenciesMs.length}.`,
        `Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (2 cores shared with the node, its worker, the brokers and other sessions).`,
      ],
      details: { amqp: amqp.passes, nats: nats.passes },
    };
  } finally {
    source.stop();
  }
}
