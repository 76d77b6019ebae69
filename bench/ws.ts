// Issue 4 benchmark "ws": 1,000 WebSocket clients on one node while 200 image jobs run.
// The node (api+worker+metrics roles) runs in its own process (bench/node-child.ts) so its
// CPU can be read from /proc/<pid>/stat; the clients run in separate Bun processes (this
// file with --clients) so the receiving side shares neither the node's event loop nor this
// process's. The same 200 jobs are run first with 0 clients connected (the baseline), then
// with 1,000, so the CPU cost of fan-out is the difference.
// Fan-out latency is publish → received: the event's `at` (set by the api node when it
// emits the event, ms resolution) against the client's receive time on the same clock.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { Queue } from "bullmq";
import IORedis from "ioredis";
import { QUEUE_PREFIX, queueName } from "../src/queue/names";
import { bullJobId } from "../src/queue/queues";
import { startTestRedis } from "../tests/helpers/redis";
import { benchDir } from "./lib/media";
import { mapPool, round } from "./lib/pool";
import { spawnNode, type NodeProcess } from "./lib/node-process";
import type { Result } from "./lib/result";

const CLIENTS = Number(process.env.BENCH_WS_CLIENTS ?? 1000);
const CLIENT_PROCS = Number(process.env.BENCH_WS_CLIENT_PROCS ?? 2);
const JOBS = Number(process.env.BENCH_WS_JOBS ?? 200);
const WARMUP_JOBS = 20;
const PASSES = Number(process.env.BENCH_WS_PASSES ?? 2);
const CONNECT_BATCH = 50;
const SUBMIT_CONCURRENCY = 4;
/** After the last job is terminal: trailing events still in flight are inside the window. */
const SETTLE_MS = 1000;
const IDLE_MS = 3000;
const SOURCE = new URL("../tests/corpus/image-jpeg-1x1.jpg", import.meta.url).pathname;
// getconf CLK_TCK: 100 on Linux x86-64 and arm64.
const CLK_TCK = 100;
/** Latency histogram: 0.1 ms bins up to 60 s, the last bin catches the rest. */
const BIN_MS = 0.1;
const BINS = 600_001;

// ---------------------------------------------------------------------------------------
// Client process: `bun bench/ws.ts --clients <spec-json>`. Prints {"ready":…} once every
// client is open; on a "report" line on stdin waits until its clients agree (or 15 s) and
// prints its figures; on "close" closes every socket and exits.

interface ClientSpec {
  url: string;
  count: number;
  batch: number;
}

interface ClientReport {
  clients: number;
  open: number;
  connectSec: number;
  /** Clients closed before "close" was sent (by the server: dropped). */
  closedEarly: number;
  closeCodes: Record<string, number>;
  errors: number;
  /** Events received per client: count → number of clients with that count. */
  counts: Record<string, number>;
  /** Distinct (count, crc32 of every message in order) pairs: 1 when every client got the same stream. */
  streams: number;
  ref: { count: number; crc: number; types: Record<string, number>; completedJobs: number; queuedJobs: number; activeJobs: number };
  /** Sparse latency histogram [bin, n] over every (client, event). */
  hist: [number, number][];
  samples: number;
  maxMs: number;
  /** Per event (index in the stream): latency of the first and the last client of this process. */
  eventMin: number[];
  eventMax: number[];
  cpuSec: number;
}

function procCpuSec(pid: number | "self"): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** [utime, stime] in seconds. */
function procUserSys(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(f[11]) / CLK_TCK, Number(f[12]) / CLK_TCK];
}

function procChildrenCpuSec(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[13]) + Number(f[14])) / CLK_TCK;
}

async function clientMain(spec: ClientSpec) {
  const host = new URL(spec.url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "::1") throw new Error(`ws clients target loopback only, not ${host}`);
  const hist = new Uint32Array(BINS);
  let samples = 0;
  let maxMs = 0;
  const eventMin: number[] = [];
  const eventMax: number[] = [];
  const counts = new Uint32Array(spec.count);
  const crcs = new Uint32Array(spec.count);
  const types: Record<string, number> = {};
  const jobsSeen = { completed: new Set<string>(), queued: new Set<string>(), active: new Set<string>() };
  let closing = false;
  let closedEarly = 0;
  let errors = 0;
  const closeCodes: Record<string, number> = {};
  const sockets: WebSocket[] = [];
  const origin = performance.timeOrigin;

  const open = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(spec.url);
      sockets[i] = ws;
      ws.onmessage = (e) => {
        const recv = origin + performance.now();
        const text = e.data as string;
        const m = JSON.parse(text) as { type: string; at: string; jobId?: string };
        const lat = recv - Date.parse(m.at);
        const k = counts[i]!;
        counts[i] = k + 1;
        crcs[i] = Bun.hash.crc32(text, crcs[i]!);
        const bin = Math.min(BINS - 1, Math.max(0, Math.floor(lat / BIN_MS)));
        hist[bin]!++;
        samples++;
        if (lat > maxMs) maxMs = lat;
        if (eventMin[k] === undefined || lat < eventMin[k]!) eventMin[k] = lat;
        if (eventMax[k] === undefined || lat > eventMax[k]!) eventMax[k] = lat;
        if (i === 0) {
          types[m.type] = (types[m.type] ?? 0) + 1;
          if (m.jobId && m.type === "job.completed") jobsSeen.completed.add(m.jobId);
          if (m.jobId && m.type === "job.queued") jobsSeen.queued.add(m.jobId);
          if (m.jobId && m.type === "job.active") jobsSeen.active.add(m.jobId);
        }
      };
      ws.onopen = () => resolve();
      ws.onerror = () => {
        errors++;
        reject(new Error(`client ${i} failed to open`));
      };
      ws.onclose = (e) => {
        closeCodes[e.code] = (closeCodes[e.code] ?? 0) + 1;
        if (!closing) closedEarly++;
      };
    });

  const t0 = performance.now();
  for (let b = 0; b < spec.count; b += spec.batch) {
    await Promise.all(Array.from({ length: Math.min(spec.batch, spec.count - b) }, (_, j) => open(b + j)));
  }
  const connectSec = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ ready: spec.count, connectSec }));

  const report = async (): Promise<ClientReport> => {
    // Every client of this process has the same count, and it stayed so for 500 ms.
    const until = Date.now() + 15_000;
    let stableSince = 0;
    let last = -1;
    while (Date.now() < until) {
      let min = Infinity;
      let max = 0;
      for (const c of counts) {
        if (c < min) min = c;
        if (c > max) max = c;
      }
      if (min === max && max === last) {
        if (Date.now() - stableSince >= 500) break;
      } else {
        stableSince = Date.now();
        last = min === max ? max : -1;
      }
      await Bun.sleep(50);
    }
    const byCount: Record<string, number> = {};
    const streams = new Set<string>();
    for (let i = 0; i < spec.count; i++) {
      byCount[counts[i]!] = (byCount[counts[i]!] ?? 0) + 1;
      streams.add(`${counts[i]}:${crcs[i]}`);
    }
    const sparse: [number, number][] = [];
    for (let b = 0; b < BINS; b++) if (hist[b]) sparse.push([b, hist[b]!]);
    return {
      clients: spec.count,
      open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
      connectSec,
      closedEarly,
      closeCodes,
      errors,
      counts: byCount,
      streams: streams.size,
      ref: { count: counts[0]!, crc: crcs[0]!, types, completedJobs: jobsSeen.completed.size, queuedJobs: jobsSeen.queued.size, activeJobs: jobsSeen.active.size },
      hist: sparse,
      samples,
      maxMs,
      eventMin,
      eventMax,
      cpuSec: procCpuSec("self"),
    };
  };

  const lines = (async function* () {
    let buf = "";
    for await (const chunk of Bun.stdin.stream()) {
      buf += new TextDecoder().decode(chunk);
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        yield buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
      }
    }
  })();
  for await (const cmd of lines) {
    if (cmd === "report") console.log(JSON.stringify(await report()));
    if (cmd === "close") break;
  }
  closing = true;
  for (const s of sockets) s.close(1000, "bench done");
  const until = Date.now() + 5000;
  while (sockets.some((s) => s.readyState !== WebSocket.CLOSED) && Date.now() < until) await Bun.sleep(20);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------
// The orchestrating side.

interface ClientProc {
  pid: number;
  ready: Promise<{ ready: number; connectSec: number }>;
  send(cmd: string): void;
  next(): Promise<string>;
  exited: Promise<number>;
  kill(): void;
}

function softNofile(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync("/proc/self/limits", "utf8"));
  return !m || m[1] === "unlimited" ? Infinity : Number(m[1]);
}

function spawnClients(spec: ClientSpec): ClientProc {
  const argv = [process.execPath, import.meta.path, "--clients", JSON.stringify(spec)];
  // Each client is a socket: raise the soft limit in a shell first when it is too low.
  const need = spec.count + 256;
  const cmd = softNofile() >= need ? argv : ["sh", "-c", `ulimit -n ${need} && exec "$@"`, "sh", ...argv];
  const p = Bun.spawn(cmd, { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = p.stdout.getReader();
  let buf = "";
  const dec = new TextDecoder();
  const next = async (): Promise<string> => {
    for (;;) {
      const i = buf.indexOf("\n");
      if (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        return line;
      }
      const { done, value } = await reader.read();
      if (done) throw new Error(`ws client process exited (code ${await p.exited})`);
      buf += dec.decode(value);
    }
  };
  return {
    pid: p.pid,
    ready: next().then((l) => JSON.parse(l) as { ready: number; connectSec: number }),
    send(c) {
      p.stdin.write(c + "\n");
      p.stdin.flush();
    },
    next,
    exited: p.exited,
    kill: () => p.kill("SIGKILL"),
  };
}

interface CpuWindow {
  wallSec: number;
  cpuSec: number;
  userSec: number;
  sysSec: number;
  childCpuSec: number;
  /** Highest CPU% over a 1 s sampling step. */
  peakPct: number;
}

/** The node's CPU (all its threads: event loop, media threads) across fn. */
async function cpuWindow<T>(pid: number, fn: () => Promise<T>): Promise<{ value: T; cpu: CpuWindow }> {
  const c0 = procCpuSec(pid);
  const k0 = procChildrenCpuSec(pid);
  const us0 = procUserSys(pid);
  const t0 = performance.now();
  let peakPct = 0;
  let lastC = c0;
  let lastT = t0;
  const timer = setInterval(() => {
    const c = procCpuSec(pid);
    const t = performance.now();
    peakPct = Math.max(peakPct, ((c - lastC) / ((t - lastT) / 1000)) * 100);
    lastC = c;
    lastT = t;
  }, 1000);
  try {
    const value = await fn();
    const us = procUserSys(pid);
    const cpu = { wallSec: (performance.now() - t0) / 1000, cpuSec: procCpuSec(pid) - c0, userSec: us[0] - us0[0], sysSec: us[1] - us0[1], childCpuSec: procChildrenCpuSec(pid) - k0, peakPct };
    return { value, cpu };
  } finally {
    clearInterval(timer);
  }
}

async function metricsText(node: NodeProcess): Promise<string> {
  return await (await fetch(`${node.url}/metrics`)).text();
}

function metricValue(text: string, name: string, labels = ""): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(" ") || rest.startsWith("{"))) continue;
    if (labels && !rest.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    seen = true;
  }
  return seen ? sum : 0;
}

/** Terminal image jobs so far, from the node's own counter. */
async function terminalJobs(node: NodeProcess): Promise<number> {
  return metricValue(await metricsText(node), "medianode_jobs_total", 'type="image"');
}

interface JobsRun {
  submitSec: number;
  failed: number;
  /** Failed jobs: "code: message" → count. */
  errors: Record<string, number>;
  /** Of the failed jobs, how many BullMQ itself holds as completed with a result. */
  failedButCompletedInBullmq: number;
}

/** Submits `n` raw-body image uploads and waits until all are terminal (then SETTLE_MS). */
async function runJobs(node: NodeProcess, queue: Queue, body: Uint8Array, n: number): Promise<JobsRun> {
  const auth = { authorization: `Bearer ${node.token}` };
  const before = await terminalJobs(node);
  const failedBefore = metricValue(await metricsText(node), "medianode_jobs_total", 'status="failed"');
  const t0 = performance.now();
  const ids = await mapPool(Array.from({ length: n }), SUBMIT_CONCURRENCY, async () => {
    const r = await fetch(`${node.url}/v1/jobs?type=image`, { method: "POST", headers: { ...auth, "content-type": "image/jpeg" }, body });
    const j = (await r.json()) as { id: string };
    if (r.status !== 202) throw new Error(`submit refused ${r.status}: ${JSON.stringify(j)}`);
    return j.id;
  });
  const submitSec = (performance.now() - t0) / 1000;
  const until = Date.now() + 90_000;
  while ((await terminalJobs(node)) < before + n) {
    if (Date.now() > until) throw new Error(`jobs not terminal after 90 s (${(await terminalJobs(node)) - before}/${n})`);
    await Bun.sleep(200);
  }
  await Bun.sleep(SETTLE_MS);
  const failed = metricValue(await metricsText(node), "medianode_jobs_total", 'status="failed"') - failedBefore;
  const errors: Record<string, number> = {};
  let failedButCompletedInBullmq = 0;
  if (failed > 0) {
    // Outside the CPU window's interest (the jobs are done); reads what went wrong.
    const mine = new Set(ids);
    const list = (await (await fetch(`${node.url}/v1/jobs?status=failed&type=image&limit=100`, { headers: auth })).json()) as { items: { id: string; error?: { code?: string; message?: string } }[] };
    for (const j of list.items) {
      if (!mine.has(j.id)) continue;
      const k = `${j.error?.code}: ${j.error?.message}`;
      errors[k] = (errors[k] ?? 0) + 1;
      const bull = await queue.getJob(bullJobId(j.id, 1));
      if (bull && (await bull.getState()) === "completed" && bull.returnvalue) failedButCompletedInBullmq++;
    }
    console.error(`   ${failed} jobs failed: ${JSON.stringify(errors)}; ${failedButCompletedInBullmq} of them completed in BullMQ with a result`);
  }
  return { submitSec, failed, errors, failedButCompletedInBullmq };
}

function merge(reports: ClientReport[]) {
  const hist = new Map<number, number>();
  for (const r of reports) for (const [b, n] of r.hist) hist.set(b, (hist.get(b) ?? 0) + n);
  const bins = [...hist.entries()].sort((a, b) => a[0] - b[0]);
  const total = bins.reduce((a, [, n]) => a + n, 0);
  const pct = (p: number) => {
    const want = Math.ceil((p / 100) * total);
    let acc = 0;
    for (const [b, n] of bins) {
      acc += n;
      if (acc >= want) return (b + 1) * BIN_MS; // upper edge of the bin
    }
    return NaN;
  };
  const mean = bins.reduce((a, [b, n]) => a + (b + 0.5) * BIN_MS * n, 0) / (total || 1);
  const events = Math.max(...reports.map((r) => r.eventMax.length));
  const last: number[] = [];
  const spread: number[] = [];
  for (let i = 0; i < events; i++) {
    const hi = Math.max(...reports.map((r) => r.eventMax[i] ?? -Infinity));
    const lo = Math.min(...reports.map((r) => r.eventMin[i] ?? Infinity));
    last.push(hi);
    spread.push(hi - lo);
  }
  last.sort((a, b) => a - b);
  spread.sort((a, b) => a - b);
  const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
  return {
    samples: total,
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    p999: pct(99.9),
    max: Math.max(...reports.map((r) => r.maxMs)),
    mean,
    lastClient: { p50: q(last, 50), p99: q(last, 99), max: last[last.length - 1] ?? NaN },
    spread: { p50: q(spread, 50), p99: q(spread, 99), max: spread[spread.length - 1] ?? NaN },
  };
}


/** One admin client; pause and resume the image queue once; how many copies of each event arrive. */
async function queueEventCopies(n: NodeProcess): Promise<{ paused: number; resumed: number }> {
  const ws = new WebSocket(`${n.url.replace(/^http/, "ws")}/v1/events?token=${n.token}`);
  const seen = { paused: 0, resumed: 0 };
  ws.onmessage = (e) => {
    const t = (JSON.parse(String(e.data)) as { type: string }).type;
    if (t === "queue.paused") seen.paused++;
    if (t === "queue.resumed") seen.resumed++;
  };
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("side-check client failed to open"));
  });
  const auth = { authorization: `Bearer ${n.token}` };
  for (const action of ["pause", "resume"]) {
    const r = await fetch(`${n.url}/v1/queues/image/${action}`, { method: "POST", headers: auth });
    if (!r.ok) throw new Error(`${action} refused ${r.status}: ${await r.text()}`);
    await Bun.sleep(500);
  }
  await Bun.sleep(500);
  ws.close();
  return seen;
}

interface LoadedPass {
  cpu: CpuWindow;
  idle: CpuWindow;
  jobs: JobsRun;
  reports: ClientReport[];
  readies: { ready: number; connectSec: number }[];
  connectSec: number;
  clientCpuSec: number;
  gauges: { connected: number; afterJobs: number; afterClose: number };
  droppedDuring: number;
}

/** Connects the clients, holds them idle, runs the jobs, collects the clients' figures, closes them. */
async function loadedPass(n: NodeProcess, queue: Queue, body: Uint8Array, wsUrl: string, procs: ClientProc[]): Promise<LoadedPass> {
  const per = Math.ceil(CLIENTS / CLIENT_PROCS);
  const tc = performance.now();
  for (let i = 0; i < CLIENT_PROCS; i++) {
    const count = Math.min(per, CLIENTS - i * per);
    if (count > 0) procs.push(spawnClients({ url: wsUrl, count, batch: CONNECT_BATCH }));
  }
  const readies = await Promise.all(procs.map((p) => p.ready));
  const connectSec = (performance.now() - tc) / 1000;
  const m0 = await metricsText(n);
  const connected = metricValue(m0, "medianode_ws_clients");
  const dropped0 = metricValue(m0, "medianode_ws_dropped_total");
  // Idle cost of holding the sockets.
  const idle = await cpuWindow(n.pid, () => Bun.sleep(IDLE_MS));
  const clientCpu0 = procs.map((p) => procCpuSec(p.pid));
  const loaded = await cpuWindow(n.pid, () => runJobs(n, queue, body, JOBS));
  const clientCpuSec = procs.reduce((a, p, i) => a + procCpuSec(p.pid) - clientCpu0[i]!, 0);
  for (const p of procs) p.send("report");
  const reports = (await Promise.all(procs.map((p) => p.next()))).map((l) => JSON.parse(l) as ClientReport);
  const m1 = await metricsText(n);
  const afterJobs = metricValue(m1, "medianode_ws_clients");
  const droppedDuring = metricValue(m1, "medianode_ws_dropped_total") - dropped0;
  for (const p of procs) p.send("close");
  await Promise.all(procs.map((p) => p.exited));
  procs.length = 0;
  let afterClose = -1;
  for (let i = 0; i < 50; i++) {
    afterClose = metricValue(await metricsText(n), "medianode_ws_clients");
    if (afterClose === 0) break;
    await Bun.sleep(100);
  }
  console.error(`   ${CLIENTS} clients (connected in ${connectSec.toFixed(1)} s, gauge ${connected}): ${JOBS} jobs in ${loaded.cpu.wallSec.toFixed(1)} s, node CPU ${loaded.cpu.cpuSec.toFixed(2)} s`);
  return { cpu: loaded.cpu, idle: idle.cpu, jobs: loaded.value, reports, readies, connectSec, clientCpuSec, gauges: { connected, afterJobs, afterClose }, droppedDuring };
}

export async function run(): Promise<Result> {
  const load0 = loadavg()[0]!;
  const dir = benchDir("ws");
  const redis = await startTestRedis();
  const body = new Uint8Array(readFileSync(SOURCE));
  const conn = new IORedis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName("image"), { connection: conn, prefix: QUEUE_PREFIX });
  let node: NodeProcess | null = null;
  const procs: ClientProc[] = [];
  try {
    node = await spawnNode({
      REDIS_URL: redis.url,
      MEDIANODE_DATA_DIR: join(dir.path, "data"),
      MEDIANODE_ROLES: "api,worker,monitor,metrics",
      // One address opens 1,000 sockets and polls /metrics: the per-IP/token limits are for the internet.
      MEDIANODE_RATE_LIMIT_PER_TOKEN: "0",
      MEDIANODE_RATE_LIMIT_PER_IP: "0",
    });
    const n = node;
    const wsUrl = `${n.url.replace(/^http/, "ws")}/v1/events?token=${n.token}`;

    // Warm-up: JIT, SQLite pages, sharp, Redis scripts, and the WebSocket path.
    await runJobs(n, queue, body, WARMUP_JOBS);

    // Passes alternate which side goes first, so drift on the shared machine biases neither.
    const base: { cpu: CpuWindow; jobs: JobsRun }[] = [];
    const loaded: LoadedPass[] = [];
    for (let i = 0; i < PASSES; i++) {
      const baseline = async () => {
        const b = await cpuWindow(n.pid, () => runJobs(n, queue, body, JOBS));
        console.error(`   0 clients: ${JOBS} jobs in ${b.cpu.wallSec.toFixed(1)} s, node CPU ${b.cpu.cpuSec.toFixed(2)} s`);
        base.push({ cpu: b.cpu, jobs: b.value });
      };
      if (i % 2 === 0) {
        await baseline();
        loaded.push(await loadedPass(n, queue, body, wsUrl, procs));
      } else {
        loaded.push(await loadedPass(n, queue, body, wsUrl, procs));
        await baseline();
      }
    }

    const globalCheck = await queueEventCopies(n);
    const reports = loaded.flatMap((p) => p.reports);
    const lat = merge(reports);
    // Per pass: every client's count and stream, and the reference client's event types.
    const passes = loaded.map((p) => {
      const counts: Record<string, number> = {};
      for (const r of p.reports) for (const [c, k] of Object.entries(r.counts)) counts[c] = (counts[c] ?? 0) + k;
      const refs = p.reports.map((r) => r.ref);
      const same = p.reports.every((r) => r.streams === 1) && refs.every((x) => x.count === refs[0]!.count && x.crc === refs[0]!.crc);
      const ref = refs[0]!;
      const terminal = (ref.types["job.completed"] ?? 0) + (ref.types["job.failed"] ?? 0);
      const perClient = Object.keys(counts).map(Number);
      return { counts, same, ref, terminal, min: Math.min(...perClient), max: Math.max(...perClient), closedEarly: p.reports.reduce((a, r) => a + r.closedEarly, 0), open: p.reports.reduce((a, r) => a + r.open, 0) };
    });
    for (const p of passes) if (!p.same || p.min !== p.max || p.ref.queuedJobs !== JOBS || p.ref.activeJobs !== JOBS || p.terminal !== JOBS) console.error(`   WARNING: clients disagree or missed events: ${JSON.stringify(p)}`);

    const sum = (xs: CpuWindow[], k: "cpuSec" | "wallSec" | "userSec" | "sysSec") => xs.reduce((a, c) => a + c[k], 0);
    const baseCpu = sum(base.map((b) => b.cpu), "cpuSec");
    const baseWall = sum(base.map((b) => b.cpu), "wallSec");
    const loadCpu = sum(loaded.map((p) => p.cpu), "cpuSec");
    const loadWall = sum(loaded.map((p) => p.cpu), "wallSec");
    const idleCpu = sum(loaded.map((p) => p.idle), "cpuSec");
    const idleWall = sum(loaded.map((p) => p.idle), "wallSec");
    const messages = lat.samples;
    const fanoutCpu = loadCpu - baseCpu;
    const dropped = loaded.reduce((a, p) => a + p.droppedDuring, 0) + passes.reduce((a, p) => a + p.closedEarly, 0);
    const failed = [...base.map((b) => b.jobs), ...loaded.map((p) => p.jobs)];
    const failedJobs = failed.reduce((a, j) => a + j.failed, 0);
    const failedStale = failed.reduce((a, j) => a + j.failedButCompletedInBullmq, 0);
    const errors: Record<string, number> = {};
    for (const j of failed) for (const [k, v] of Object.entries(j.errors)) errors[k] = (errors[k] ?? 0) + v;
    const eventsPerClient = passes[0]!.min;
    const pctOf = (cpu: number, wall: number) => (cpu / wall) * 100;
    const p1 = loaded[0]!;

    return {
      name: "ws",
      description:
        `${CLIENTS} WebSocket clients (admin token, unfiltered /v1/events?token=T) in ${CLIENT_PROCS} Bun processes of their own, connected in batches of ${CONNECT_BATCH}, to one node in its own process (bench/node-child.ts, MEDIANODE_ROLES=api,worker,monitor,metrics, image concurrency = cores), ` +
        `while ${JOBS} image jobs run (raw-body POST /v1/jobs?type=image of a 1×1 JPEG, ${SUBMIT_CONCURRENCY} uploads in flight, after ${WARMUP_JOBS} warm-up jobs). ` +
        `Latency = client receive time − the event's \`at\` (set by the api node when it emits the event; same clock). Node CPU = utime+stime of /proc/<pid>/stat (all its threads, media threads included) from the first upload until all jobs are terminal + ${SETTLE_MS} ms; ` +
        `the baseline is the same ${JOBS} jobs on the same node with 0 clients connected. ${PASSES} passes of each, alternating which goes first; figures are over all passes.`,
      metrics: [
        { label: "clients connected (medianode_ws_clients)", value: p1.gauges.connected, unit: "clients" },
        { label: "events per client", value: eventsPerClient, unit: "events" },
        { label: "messages delivered", value: messages, unit: "messages" },
        { label: "fan-out latency p50", value: lat.p50, unit: "ms" },
        { label: "fan-out latency p99", value: lat.p99, unit: "ms" },
        { label: "fan-out latency max", value: lat.max, unit: "ms" },
        { label: "last client of an event, p99", value: lat.lastClient.p99, unit: "ms" },
        { label: "clients dropped/closed", value: dropped, unit: "clients" },
        { label: `node CPU per pass, ${CLIENTS} clients`, value: loadCpu / PASSES, unit: "s" },
        { label: "node CPU per pass, 0 clients", value: baseCpu / PASSES, unit: "s" },
        { label: `node CPU% avg, ${CLIENTS} clients`, value: pctOf(loadCpu, loadWall), unit: "%" },
        { label: "node CPU% avg, 0 clients", value: pctOf(baseCpu, baseWall), unit: "%" },
        { label: "fan-out CPU per 1000 messages", value: messages ? (fanoutCpu / messages) * 1e6 : NaN, unit: "ms" },
        { label: `node CPU% idle, ${CLIENTS} clients`, value: pctOf(idleCpu, idleWall), unit: "%" },
      ],
      ratios: [{ label: `node CPU ${CLIENTS} clients / 0 clients`, value: loadCpu / baseCpu }],
      notes: [
        ...passes.map(
          (p, i) =>
            `Pass ${i + 1}: events per client ${JSON.stringify(p.counts)} (count → clients); ${p.same ? "every client received the identical stream (same count, same CRC-32 of every message in order)" : "clients' streams DIFFER"}; ` +
            `types ${JSON.stringify(p.ref.types)}; ${p.ref.queuedJobs}/${p.ref.activeJobs}/${p.terminal} of ${JOBS} jobs seen queued/active/terminal.`,
        ),
        `Latency over ${messages} (client, event) deliveries: p50 ${round(lat.p50, 1)}, p90 ${round(lat.p90, 1)}, p99 ${round(lat.p99, 1)}, p99.9 ${round(lat.p999, 1)}, max ${round(lat.max, 1)}, mean ${round(lat.mean, 1)} ms. ` +
          `Per event, the last of the ${CLIENTS} clients: p50 ${round(lat.lastClient.p50, 1)}, p99 ${round(lat.lastClient.p99, 1)}, max ${round(lat.lastClient.max, 1)} ms; first-to-last client spread p50 ${round(lat.spread.p50, 1)}, p99 ${round(lat.spread.p99, 1)} ms.`,
        "`at` has 1 ms resolution (toISOString of Date.now(), truncated) and the receive time is sub-ms (performance.timeOrigin + now()), so each latency is the true one plus [0, 1) ms: about 0.5 ms high on average. Latencies are binned at 0.1 ms (percentiles are bin upper edges).",
        `Dropped/closed: medianode_ws_dropped_total +${loaded.map((p) => p.droppedDuring).join("/+")}; clients closed by the server ${passes.map((p) => p.closedEarly).join("/")}; open at the end of the jobs ${passes.map((p) => p.open).join("/")} of ${CLIENTS}; ` +
          `medianode_ws_clients after connecting / after the jobs / once the clients closed: ${loaded.map((p) => `${p.gauges.connected}/${p.gauges.afterJobs}/${p.gauges.afterClose}`).join(", ")}.`,
        `Node CPU per pass (100% = one core; 2 cores; the loaded runs take longer in wall time because the client processes share the cores, so compare CPU seconds, not CPU%): 0 clients ${base.map((b) => `${b.cpu.cpuSec.toFixed(2)} s over ${b.cpu.wallSec.toFixed(1)} s (peak ${b.cpu.peakPct.toFixed(0)}%/1 s)`).join(", ")}; ` +
          `${CLIENTS} clients ${loaded.map((p) => `${p.cpu.cpuSec.toFixed(2)} s over ${p.cpu.wallSec.toFixed(1)} s (peak ${p.cpu.peakPct.toFixed(0)}%/1 s)`).join(", ")}. ` +
          `Fan-out cost ${fanoutCpu.toFixed(2)} s of node CPU for ${messages} messages (user ${(sum(loaded.map((p) => p.cpu), "userSec") - sum(base.map((b) => b.cpu), "userSec")).toFixed(2)} s, system ${(sum(loaded.map((p) => p.cpu), "sysSec") - sum(base.map((b) => b.cpu), "sysSec")).toFixed(2)} s).` +
          ` Holding ${CLIENTS} idle sockets: ${pctOf(idleCpu, idleWall).toFixed(1)}% over ${IDLE_MS / 1000} s per pass.`,
        `Client processes used ${loaded.map((p) => p.clientCpuSec.toFixed(2)).join("/")} s CPU during the loaded runs; they share the 2 cores with the node, its media threads, Redis and this process, so latency includes waiting for a core (the first-to-last client spread includes the node's per-socket sends and two JS processes each reading 500 sockets). ` +
          `Connect ${CLIENTS} in ${loaded.map((p) => p.connectSec.toFixed(2)).join("/")} s. Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (a machine shared with other sessions).`,
        failedJobs
          ? `${failedJobs} of ${JOBS * PASSES * 2} jobs ended failed: ${JSON.stringify(errors)}; BullMQ holds ${failedStale} of them as completed with a valid result (the recorder read a stale job: see the report). Their events still reached every client.`
          : `All ${JOBS * PASSES * 2} jobs completed.`,
        `Side check, after the passes: one admin client, the image queue paused then resumed once: it received ${globalCheck.paused} queue.paused and ${globalCheck.resumed} queue.resumed message(s) (1 each expected).`,
      ],
      details: {
        baseline: base,
        loaded: loaded.map((p) => ({ ...p, reports: p.reports.map((r) => ({ ...r, hist: undefined, eventMin: undefined, eventMax: undefined })) })),
        latency: lat,
        passes: passes.map((p) => ({ ...p, ref: { ...p.ref } })),
      },
    };
  } finally {
    for (const p of procs) p.kill();
    await node?.stop();
    await queue.close();
    conn.disconnect();
    await redis.stop();
    dir.remove();
  }
}

if (import.meta.main && process.argv[2] === "--clients") await clientMain(JSON.parse(process.argv[3]!) as ClientSpec);
