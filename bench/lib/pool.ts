import { readFileSync } from "node:fs";

// Small timing helpers shared by the benchmarks.

/** Runs fn over items with at most `concurrency` in flight; results keep the input order. */
export async function mapPool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return out;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(values: readonly number[]): { n: number; mean: number; p50: number; p90: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, mean, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

export const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/**
 * CPU seconds used by a process (this one by default) and every child it has reaped (ffmpeg,
 * ffprobe, also those spawned by a node's media threads): utime+stime+cutime+cstime from
 * /proc/<pid>/stat. Less sensitive than wall time to other work on a shared machine.
 */
export function cpuWithChildrenSec(pid: number | "self" = "self"): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the comm field: state is f[0], so utime..cstime (fields 14-17) are f[11..14].
  const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  return ticks / CLK_TCK;
}
/** VmRSS of a process from /proc/<pid>/status, MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

// getconf CLK_TCK: 100 on Linux x86-64 and arm64.
const CLK_TCK = 100;

/** Wall and CPU (with children) seconds of fn. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; wallSec: number; cpuSec: number }> {
  const c0 = cpuWithChildrenSec();
  const t0 = performance.now();
  const value = await fn();
  return { value, wallSec: (performance.now() - t0) / 1000, cpuSec: cpuWithChildrenSec() - c0 };
}
