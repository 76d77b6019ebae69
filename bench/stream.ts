// Issue 17 benchmark "stream": 1,000 listeners on one live audio channel on one node
// (api+worker+monitor in its own process, bench/node-child.ts), the listeners in two other
// Bun processes (this file with --clients). Measured: the node's CPU per listener (CPU with
// 1,000 listeners minus the idle node, same window), bytes/s each listener receives against
// the rendition's own bytes/s, the spread of the position listeners have been delivered to
// at one instant (p99 distance from the median; target < 250 ms), listeners dropped, and a
// broadcaster's chunk → listener latency (p50/p99) with all 1,000 listening.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { oggPackets, opusPacketSamples } from "../src/channels/ogg";
import { createOggPageStream } from "../src/channels/live-input";
import { createAdtsFrameStream } from "../src/channels/adts";
import { startTestRedis } from "../tests/helpers/redis";
import { benchDir, run as runTool } from "./lib/media";
import { spawnNode } from "./lib/node-process";
import type { Result } from "./lib/result";

const LISTENERS = Number(process.env.BENCH_STREAM_LISTENERS ?? 1000);
const CLIENT_PROCS = 2;
const WINDOW_SEC = Number(process.env.BENCH_STREAM_WINDOW_SEC ?? 20);
const TRACK_SEC = 60;
const KBPS = 96;
/** Listeners (in the first client process) that ask for the AAC rendition: the broadcast reaches them through the live AAC encode. */
const AAC_LISTENERS = Number(process.env.BENCH_STREAM_AAC_LISTENERS ?? 50);
const AAC_KBPS = 128;
const CLK_TCK = 100;

const cpuSec = (pid: number | "self") => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

// ---------------------------------------------------------------------------------------
// Client process: `bun bench/stream.ts --clients <json>`. Prints {"ready":n} once every
// listener has its first metadata; answers "mark" (bytes so far per listener), "report"
// (positions delivered now, live arrivals) and "close".

interface ClientSpec {
  url: string;
  count: number;
  /** The first `aac` of them ask for AAC. */
  aac: number;
}

interface ListenerState {
  aac: boolean;
  bytes: number;
  startPos: number | null;
  samples: number;
  live: boolean;
  liveSamples: number;
  /** [arrival ms, cumulative live seconds] for each live audio message. */
  liveArrivals: [number, number][];
  closed: boolean;
  closeCode: number | null;
}

async function clientMain(spec: ClientSpec) {
  const ls: ListenerState[] = [];
  let ready = 0;
  const open = (i: number) =>
    new Promise<void>((resolve) => {
      const st: ListenerState = { aac: i < spec.aac, bytes: 0, startPos: null, samples: 0, live: false, liveSamples: 0, liveArrivals: [], closed: false, closeCode: null };
      ls[i] = st;
      const ws = new WebSocket(spec.url);
      ws.binaryType = "arraybuffer";
      const pages = createOggPageStream();
      const adts = createAdtsFrameStream();
      let headers = 0;
      ws.onopen = () => ws.send(JSON.stringify({ type: "stream.start", channel: "bench", bitrate: st.aac ? AAC_KBPS : KBPS }));
      ws.onmessage = (m) => {
        if (typeof m.data === "string") {
          const e = JSON.parse(m.data) as { type: string; positionSec?: number; live?: boolean };
          if (e.type === "stream.metadata") {
            if (st.startPos === null) {
              st.startPos = e.positionSec!;
              ready++;
              resolve();
            }
            st.live = !!e.live;
          }
          return;
        }
        const b = new Uint8Array(m.data as ArrayBuffer);
        st.bytes += b.length;
        // Received audio in 48 kHz samples: Opus packets' TOC durations, ADTS frames' own rate.
        let n = 0;
        if (st.aac) for (const f of adts.push(b)) n += (f.frame.samples * 48000) / f.frame.sampleRate;
        else
          for (const p of oggPackets(pages.push(b))) {
            if (headers < 2) {
              headers++;
              continue;
            }
            n += opusPacketSamples(p.data);
          }
        if (st.live) {
          st.liveSamples += n;
          st.liveArrivals.push([Date.now(), st.liveSamples / 48000]);
        } else st.samples += n;
      };
      ws.onclose = (c) => {
        st.closed = true;
        st.closeCode = c.code;
        resolve();
      };
    });
  for (let i = 0; i < spec.count; i += 50) await Promise.all(Array.from({ length: Math.min(50, spec.count - i) }, (_, k) => open(i + k)));
  console.log(JSON.stringify({ ready }));
  for await (const line of console) {
    const cmd = line.trim();
    if (cmd === "mark") console.log(JSON.stringify({ bytes: ls.map((l) => l.bytes) }));
    else if (cmd === "report") {
      const at = Date.now();
      console.log(JSON.stringify({ at, delivered: ls.map((l) => (l.startPos ?? 0) + l.samples / 48000), aac: ls.map((l) => l.aac), closed: ls.filter((l) => l.closed).length, codes: ls.filter((l) => l.closed).map((l) => l.closeCode) }));
    } else if (cmd === "live") {
      // Every AAC listener and the first 100 Opus ones.
      const opus = ls.filter((l) => !l.aac).slice(0, 100);
      console.log(JSON.stringify({ arrivals: opus.map((l) => l.liveArrivals), aacArrivals: ls.filter((l) => l.aac).map((l) => l.liveArrivals) }));
    }
    else if (cmd === "close") process.exit(0);
  }
}

// ---------------------------------------------------------------------------------------

interface Client {
  send(cmd: string): void;
  line(): Promise<Record<string, unknown>>;
  pid: number;
  stop(): void;
}

function spawnClients(spec: ClientSpec): Client {
  const p = Bun.spawn([process.execPath, import.meta.path, "--clients", JSON.stringify(spec)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = p.stdout.getReader();
  let buf = "";
  return {
    pid: p.pid,
    send: (cmd) => void (p.stdin.write(cmd + "\n"), p.stdin.flush()),
    async line() {
      while (!buf.includes("\n")) {
        const { done, value } = await reader.read();
        if (done) throw new Error("client process ended");
        buf += new TextDecoder().decode(value);
      }
      const i = buf.indexOf("\n");
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      return JSON.parse(l) as Record<string, unknown>;
    },
    stop: () => p.kill(),
  };
}

/** Media end time (s) of each WebM cluster, and the byte ranges: chunks as MediaRecorder sends them. */
function webmClusters(b: Uint8Array): { start: number; end: number; mediaStartSec: number }[] {
  const starts: number[] = [];
  for (let i = 0; i + 4 < b.length; i++) if (b[i] === 0x1f && b[i + 1] === 0x43 && b[i + 2] === 0xb6 && b[i + 3] === 0x75) starts.push(i);
  return starts.map((s, k) => {
    // Cluster: ID, size (vint), then Timecode 0xE7, size vint, value (ms).
    let j = s + 4;
    const len = (x: number) => { let n = 1; while (n <= 8 && !(x & (0x80 >> (n - 1)))) n++; return n; };
    j += len(b[j]!);
    let tc = 0;
    if (b[j] === 0xe7) {
      const l = b[j + 1]! & 0x7f;
      for (let q = 0; q < l; q++) tc = tc * 256 + b[j + 2 + q]!;
    }
    return { start: k === 0 ? 0 : s, end: starts[k + 1] ?? b.length, mediaStartSec: tc / 1000 };
  });
}

export async function run(): Promise<Result> {
  const dir = benchDir("stream");
  const redis = await startTestRedis();
  const node = await spawnNode({ REDIS_URL: redis.url, MEDIANODE_DATA_DIR: dir.path, MEDIANODE_RATE_LIMIT_PER_TOKEN: "0", MEDIANODE_RATE_LIMIT_PER_IP: "0", MEDIANODE_STREAM_LISTENERS_PER_TOKEN: "0", MEDIANODE_WS_BUFFER_BYTES: String(4 * 1024 * 1024) });
  const clients: Client[] = [];
  try {
    const api = (path: string, init: RequestInit = {}) => fetch(node.url + path, { ...init, headers: { authorization: `Bearer ${node.token}`, ...(init.headers as Record<string, string>) } });
    const wav = join(dir.path, "tone.wav");
    await runTool(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${TRACK_SEC}`, "-ac", "2", wav]);
    const options = encodeURIComponent(JSON.stringify({ renditions: [{ codec: "opus", bitrateKbps: KBPS }, { codec: "aac", bitrateKbps: AAC_KBPS }], waveform: false }));
    const job = (await (await api(`/v1/jobs?type=audio&options=${options}`, { method: "POST", body: Bun.file(wav), headers: { "content-type": "audio/wav" } })).json()) as { id: string };
    let done: { status: string; outputs: { name: string; bytes: number }[] } = { status: "queued", outputs: [] };
    while (!["completed", "failed"].includes(done.status)) {
      await Bun.sleep(200);
      done = (await (await api(`/v1/jobs/${job.id}`)).json()) as typeof done;
    }
    if (done.status !== "completed") throw new Error("audio job failed");
    const rendition = done.outputs.find((o) => o.name.endsWith(".opus"))!;
    const renditionBytesPerSec = rendition.bytes / TRACK_SEC;
    const c = await api("/v1/channels", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "bench", jobs: [job.id] }) });
    if (c.status !== 201) throw new Error(`channel: ${c.status} ${await c.text()}`);

    // Idle node: its CPU over the window with nobody listening.
    const idle0 = cpuSec(node.pid);
    await Bun.sleep(WINDOW_SEC * 1000);
    const idleCpu = cpuSec(node.pid) - idle0;

    const wsUrl = `${node.url.replace("http", "ws")}/v1/stream?token=${node.token}`;
    const t0 = Date.now();
    for (let i = 0; i < CLIENT_PROCS; i++) clients.push(spawnClients({ url: wsUrl, count: Math.ceil(LISTENERS / CLIENT_PROCS), aac: i === 0 ? AAC_LISTENERS : 0 }));
    const ready = (await Promise.all(clients.map((cl) => cl.line()))).reduce((s, r) => s + (r.ready as number), 0);
    const connectSec = (Date.now() - t0) / 1000;
    // Past every start burst: real-time pace from here.
    await Bun.sleep(3000);
    clients.forEach((cl) => cl.send("mark"));
    const mark0 = (await Promise.all(clients.map((cl) => cl.line()))).flatMap((r) => r.bytes as number[]);
    const busy0 = cpuSec(node.pid);
    const w0 = Date.now();
    await Bun.sleep(WINDOW_SEC * 1000);
    const busyCpu = cpuSec(node.pid) - busy0;
    const windowSec = (Date.now() - w0) / 1000;
    clients.forEach((cl) => cl.send("mark"));
    const mark1 = (await Promise.all(clients.map((cl) => cl.line()))).flatMap((r) => r.bytes as number[]);
    clients.forEach((cl) => cl.send("report"));
    const reports = await Promise.all(clients.map((cl) => cl.line()));
    // bytes/s against the Opus file's: the Opus listeners only.
    const isAac = reports.flatMap((r) => r.aac as boolean[]);
    const rates = mark1.map((b, i) => (b - mark0[i]!) / windowSec).filter((_, i) => !isAac[i]);
    // Delivered positions at one instant: each process's figures shifted to the first one's clock reading.
    const ref = reports[0]!.at as number;
    const delivered = reports.flatMap((r) => (r.delivered as number[]).map((p) => p + (ref - (r.at as number)) / 1000));
    const median = pct(delivered, 50);
    const dev = delivered.map((p) => Math.abs(p - median) * 1000);
    const dropped = reports.reduce((s, r) => s + (r.closed as number), 0);

    // A broadcaster with every listener on: WebM/Opus clusters of ~100 ms sent in real time.
    const webm = join(dir.path, "live.webm");
    await runTool(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000:duration=8", "-c:a", "libopus", "-b:a", "64k", "-f", "webm", "-cluster_time_limit", "100", webm]);
    const bytes = new Uint8Array(await Bun.file(webm).arrayBuffer());
    const clusters = webmClusters(bytes);
    const b = new WebSocket(`${node.url.replace("http", "ws")}/v1/channels/bench/live?token=${node.token}`);
    await new Promise((r) => (b.onopen = r));
    const sentAt: number[] = [];
    const tb = Date.now();
    for (let k = 0; k < clusters.length; k++) {
      const wait = tb + clusters[k]!.mediaStartSec * 1000 - Date.now();
      if (wait > 0) await Bun.sleep(wait);
      sentAt.push(Date.now());
      b.send(bytes.subarray(clusters[k]!.start, clusters[k]!.end));
    }
    await Bun.sleep(1500);
    clients.forEach((cl) => cl.send("live"));
    const liveReports = await Promise.all(clients.map((cl) => cl.line()));
    const arrivals = liveReports.flatMap((r) => r.arrivals as [number, number][][]);
    const aacArrivals = liveReports.flatMap((r) => (r.aacArrivals as [number, number][][] | undefined) ?? []);
    b.send(JSON.stringify({ type: "live.stop" }));
    // Chunk k holds media up to the next cluster's start: its latency is when a listener has
    // received that much live audio, counted from the broadcast's first sample. The last
    // chunks are left out: encoders hold their last frames until the input ends.
    const latencyOf = (arrs: [number, number][][], holdBackSec: number) => {
      const out: number[] = [];
      let missing = 0;
      for (const arr of arrs)
        for (let k = 0; k < clusters.length - 1; k++) {
          const need = clusters[k + 1]!.mediaStartSec;
          if (need > clusters[clusters.length - 1]!.mediaStartSec - holdBackSec) break;
          const hit = arr.find(([, sec]) => sec >= need - 0.001);
          if (hit) out.push(hit[0] - sentAt[k]!);
          else missing++;
        }
      return { latencies: out, missing };
    };
    const { latencies, missing } = latencyOf(arrivals, 0.1);
    // The AAC encoder (ffmpeg's aac) keeps about 2 frames of lookahead plus its priming; chunks
    // within the last 0.5 s are not counted for it.
    const aacLat = latencyOf(aacArrivals, 0.5);
    if (process.env.BENCH_STREAM_DEBUG) console.error(JSON.stringify({ clusters: clusters.slice(0, 6), sent: sentAt.slice(0, 6).map((s) => s - tb), arr: arrivals[0]?.slice(0, 12).map(([t, s]) => [t - tb, s]) }));
    const perListenerCpuMs = ((busyCpu - idleCpu) / windowSec / ready) * 1000;
    const load = loadavg().map((x) => Math.round(x * 100) / 100);
    const meanRate = rates.reduce((s, r) => s + r, 0) / rates.length;
    return {
      name: "stream",
      description: `${ready} listeners of one channel (${ready - AAC_LISTENERS} Opus ${KBPS} kbps, ${AAC_LISTENERS} AAC ${AAC_KBPS} kbps) on one node, listeners in ${CLIENT_PROCS} other processes; ${WINDOW_SEC} s windows; a WebM/Opus broadcaster with all of them listening`,
      metrics: [
        { label: "listeners connected", value: ready, unit: "" },
        { label: "connect time", value: connectSec, unit: "s" },
        { label: "node CPU per listener", value: perListenerCpuMs, unit: "ms CPU per listener-second" },
        { label: "node CPU with listeners", value: (busyCpu / windowSec) * 100, unit: "% of a core" },
        { label: "node CPU idle", value: (idleCpu / windowSec) * 100, unit: "% of a core" },
        { label: "bytes/s per listener (mean)", value: meanRate, unit: "B/s" },
        { label: "rendition bytes/s", value: renditionBytesPerSec, unit: "B/s" },
        { label: "position spread p50", value: pct(dev, 50), unit: "ms" },
        { label: "position spread p99", value: pct(dev, 99), unit: "ms" },
        { label: "listeners dropped", value: dropped, unit: "" },
        { label: "broadcast latency p50", value: pct(latencies, 50), unit: "ms" },
        { label: "broadcast latency p99", value: pct(latencies, 99), unit: "ms" },
        { label: "broadcast chunks never received (Opus)", value: missing, unit: "" },
        { label: "AAC listeners", value: aacArrivals.length, unit: "" },
        { label: "broadcast latency AAC p50", value: pct(aacLat.latencies, 50), unit: "ms" },
        { label: "broadcast latency AAC p99", value: pct(aacLat.latencies, 99), unit: "ms" },
        { label: "broadcast chunks never received (AAC)", value: aacLat.missing, unit: "" },
        { label: "load average (1/5/15)", value: load[0]!, unit: `(${load.join(" / ")})` },
      ],
      ratios: [
        { label: "bytes/s sent ÷ rendition bytes/s", value: meanRate / renditionBytesPerSec },
        { label: "position spread p99 (s)", value: pct(dev, 99) / 1000, target: { op: "<=", value: 0.25 } },
        { label: "listeners dropped ÷ listeners", value: dropped / Math.max(ready, 1), target: { op: "<=", value: 0 } },
        { label: "broadcast latency p99, Opus (s)", value: pct(latencies, 99) / 1000, target: { op: "<=", value: 1 } },
        { label: "broadcast latency p99, AAC (s)", value: pct(aacLat.latencies, 99) / 1000, target: { op: "<=", value: 1 } },
      ],
      notes: [
        "Delivered position = where a listener joined plus the Opus it has received (from the Ogg packets); spread is each listener's distance from the median at one instant.",
        "CPU per listener = (node CPU with the listeners − idle node CPU over the same window length) ÷ listeners ÷ window.",
        `Broadcast latency: a ~100 ms WebM cluster, sent at its media start time → a listener holds all of its audio, counted from the broadcast's first sample (no packet may be lost at the switch to live). Measured on the first ${Math.min(100, Math.ceil(LISTENERS / CLIENT_PROCS))} Opus listeners of each client process and on all ${AAC_LISTENERS} AAC listeners (the live ADTS AAC encode). Includes ffmpeg's remux/encode, the relay and the client's own event loop; it does not include the audio a listener's player still holds from the playlist (the pacer keeps up to 1.5 s ahead), which plays before the broadcast.`,
        "bytes/s includes Ogg page overhead (one page per ~100 ms) against the rendition file's own average.",
      ],
      details: { idleCpuSec: idleCpu, busyCpuSec: busyCpu, windowSec, latencies: latencies.length, aacLatencies: aacLat.latencies.length, load },
    };
  } finally {
    for (const cl of clients) {
      cl.send("close");
      cl.stop();
    }
    await node.stop();
    await redis.stop();
    dir.remove();
  }
}

if (process.argv[2] === "--clients") await clientMain(JSON.parse(process.argv[3]!) as ClientSpec);
else if (import.meta.main) {
  const r = await run();
  console.log(JSON.stringify(r, null, 2));
  process.exit(0);
}
