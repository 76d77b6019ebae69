// Shared by the upload benchmarks: a pid's RSS sampled while something runs, and curl
// streaming a file to the node (so the client's own memory never holds it).
import { rssMiB } from "./pool";

/** Samples the pid's RSS every 100 ms while fn runs. */
export async function sampled<T>(pid: number, fn: () => Promise<T>): Promise<{ value: T; maxMiB: number; startMiB: number; samples: number; wallSec: number }> {
  const startMiB = rssMiB(pid);
  let maxMiB = startMiB;
  let samples = 0;
  const timer = setInterval(() => {
    const r = rssMiB(pid);
    samples++;
    if (r > maxMiB) maxMiB = r;
  }, 100);
  const t0 = performance.now();
  try {
    const value = await fn();
    return { value, maxMiB: Math.max(maxMiB, rssMiB(pid)), startMiB, samples, wallSec: (performance.now() - t0) / 1000 };
  } finally {
    clearInterval(timer);
  }
}

/** curl streams the file from disk in both forms (-T for the raw body: --data-binary @file would read it all into curl's memory first). */
export async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const p = Bun.spawn(["curl", "-sS", "--max-time", "170", "-o", "-", "-w", "\n%{http_code}", ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`curl exited ${code}: ${err}`);
  const i = out.lastIndexOf("\n");
  return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
}
