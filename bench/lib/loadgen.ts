// A bounded HTTP load generator, run as its own process so its event loop is not the
// server's: `bun bench/lib/loadgen.ts <spec-json>` → one JSON line of results on stdout.
// Loopback only; a fixed request count and a time cap.

export interface LoadSpec {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  requests: number;
  concurrency: number;
  /** Stop early after this long (the count is then what completed). */
  maxSec: number;
  /** Requests cycle through these instead of `url` (e.g. every segment of a playlist). */
  urls?: string[];
  /** Read bodies as bytes, not text (large binary files: no UTF-8 decode in the client). */
  binary?: boolean;
}

export interface LoadResult {
  requests: number;
  wallSec: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  statuses: Record<string, number>;
  /** Body bytes received. */
  bytes: number;
  firstError?: string;
}

async function main() {
  const spec = JSON.parse(process.argv[2]!) as LoadSpec;
  const urls = spec.urls?.length ? spec.urls : [spec.url];
  for (const u of urls) {
    const host = new URL(u).hostname;
    if (host !== "127.0.0.1" && host !== "localhost" && host !== "::1") throw new Error(`loadgen targets loopback only, not ${host}`);
  }
  let bytes = 0;
  const lat: number[] = [];
  const statuses: Record<string, number> = {};
  let firstError: string | undefined;
  let next = 0;
  const t0 = performance.now();
  const deadline = t0 + spec.maxSec * 1000;
  const lane = async () => {
    while (next < spec.requests && performance.now() < deadline) {
      const url = urls[next % urls.length]!;
      next++;
      const s = performance.now();
      let status = "error";
      try {
        const r = await fetch(url, { method: spec.method, headers: spec.headers, body: spec.body || undefined });
        const body = spec.binary ? new Uint8Array(await r.arrayBuffer()) : new TextEncoder().encode(await r.text());
        bytes += body.byteLength;
        status = String(r.status);
        if (r.status >= 400 && !firstError) firstError = `${r.status} ${new TextDecoder().decode(body.subarray(0, 300))}`;
      } catch (e) {
        if (!firstError) firstError = (e as Error).message;
      }
      lat.push(performance.now() - s);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, lane));
  const wallSec = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const pick = (p: number) => lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((p / 100) * lat.length) - 1))]!;
  const out: LoadResult = {
    requests: lat.length,
    wallSec,
    rps: lat.length / wallSec,
    latencyMs: { p50: pick(50), p90: pick(90), p99: pick(99), max: lat[lat.length - 1]!, mean: lat.reduce((a, b) => a + b, 0) / lat.length },
    statuses,
    bytes,
    ...(firstError ? { firstError } : {}),
  };
  console.log(JSON.stringify(out));
}

/** Runs the generator in a child process and returns its figures. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const p = Bun.spawn([process.execPath, import.meta.path, JSON.stringify(spec)], { stdout: "pipe", stderr: "inherit" });
  const [code, out] = await Promise.all([p.exited, new Response(p.stdout).text()]);
  if (code !== 0) throw new Error(`loadgen exited ${code}`);
  return JSON.parse(out.trim().split("\n").pop()!) as LoadResult;
}

if (import.meta.main) await main();
