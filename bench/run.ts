// `bun run bench [names...]`: runs each bench/<name>.ts (all, or those named), prints a
// table and writes bench/results/latest.json and latest.md, and <name>.json/.md for each
// benchmark run (holding only that run). Figures are ratios against the
// raw tool measured in the same run; nothing here fails on a time.
import { mkdirSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fmt, ratioCell, toMarkdown, type Result } from "./lib/result";

// In run order: issue 2 first, then issues 3, 4, 6 and 7; codecs is issue 16, playback issue 15, central issue 14 (PostgreSQL), stream issue 17, bucket, bucket-video and bucket-workers issue 14 (media in S3), bus issue 19, queries issue 20.
const ALL = ["image", "submit", "upload", "video", "audio", "storyboard", "ws", "nodes", "throughput", "soak", "codecs", "playback", "central", "stream", "bucket", "bucket-video", "bucket-workers", "bus", "queries"] as const;

async function ffmpegVersion(): Promise<string> {
  try {
    const p = Bun.spawn(["ffmpeg", "-version"], { stdout: "pipe", stderr: "ignore" });
    return (await new Response(p.stdout).text()).split("\n")[0]!.replace(/ Copyright.*/, "");
  } catch {
    return "not found";
  }
}

async function runEnv(): Promise<Record<string, string>> {
  return {
    date: new Date().toISOString(),
    cpu: `${cpus().length}× ${cpus()[0]?.model ?? "?"}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    bun: Bun.version,
    ffmpeg: await ffmpegVersion(),
  };
}

async function main() {
  const wanted = process.argv.slice(2);
  for (const w of wanted) if (!(ALL as readonly string[]).includes(w)) {
    console.error(`unknown benchmark "${w}" (benchmarks: ${ALL.join(", ")})`);
    process.exit(2);
  }
  const names = wanted.length ? ALL.filter((n) => wanted.includes(n)) : [...ALL];
  const dir = join(import.meta.dir, "results");
  mkdirSync(dir, { recursive: true });
  // A partial run keeps the other benchmarks' last figures, so latest.* always lists them all.
  const previous: Result[] = existsSync(join(dir, "latest.json")) && wanted.length ? ((JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")) as { results: Result[] }).results ?? []) : [];
  const results = new Map(previous.map((r) => [r.name, r]));
  const failures: string[] = [];
  for (const name of names) {
    console.error(`\n== ${name}`);
    const t0 = performance.now();
    try {
      const mod = (await import(`./${name}.ts`)) as { run(): Promise<Result> };
      const r = await mod.run();
      const stored: Result = { ...r, details: { ...r.details, benchSec: Math.round((performance.now() - t0) / 100) / 10, at: new Date().toISOString() } };
      results.set(name, stored);
      // Each run also stands alone as <name>.json / <name>.md, so a committed figure names the run it came from.
      const own = { env: { ...(await runEnv()), ran: name }, results: [stored] };
      writeFileSync(join(dir, `${name}.json`), JSON.stringify(own, null, 2) + "\n");
      writeFileSync(join(dir, `${name}.md`), toMarkdown(own.results, own.env) + "\n");
      for (const m of r.metrics) console.error(`   ${m.label}: ${fmt(m.value)} ${m.unit}`);
      for (const q of r.ratios) console.error(`   ${ratioCell(q)}`);
    } catch (e) {
      failures.push(name);
      console.error(`   ${name} FAILED: ${(e as Error).stack ?? e}`);
    }
  }
  const ordered = ALL.map((n) => results.get(n)).filter((r): r is Result => !!r);
  const env = { ...(await runEnv()), ran: names.join(", ") };
  writeFileSync(join(dir, "latest.json"), JSON.stringify({ env, results: ordered }, null, 2) + "\n");
  const md = toMarkdown(ordered, env);
  writeFileSync(join(dir, "latest.md"), md + "\n");
  console.log("\n" + md);
  if (failures.length) {
    console.error(`failed: ${failures.join(", ")}`);
    process.exit(1);
  }
  // BullMQ/ioredis handles may linger; the results are written.
  process.exit(0);
}

await main();
