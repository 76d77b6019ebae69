import { afterAll, beforeAll, expect, test } from "bun:test";
import { METRIC_NAMES } from "../../src/metrics/registry";
import { corpus } from "../helpers/corpus";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t.stop();
});

const scrape = async () => {
  const r = await fetch(t.url + "/metrics");
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toContain("text/plain");
  return await r.text();
};
const value = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

test("/metrics needs no token and has every SPEC §9 name, without Bun-misreported defaults", async () => {
  const text = await scrape();
  for (const name of METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
  expect(text).toContain("process_resident_memory_bytes");
  expect(text).not.toContain("nodejs_gc_duration_seconds");
  expect(text).not.toContain("nodejs_heap_space_size");
});

test("counters move: jobs, durations, waits, bytes, HTTP by route template, queue gauge", async () => {
  const before = await scrape();
  const { path } = corpus("image-webp-lossy.webp");
  const job = (await (await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(path) })).json()) as { id: string };
  const done = (await waitForJob(t, job.id)) as unknown as { outputs: { url: string; bytes: number }[] };
  await (await t.api(done.outputs[0]!.url)).arrayBuffer();
  await t.api(`/v1/jobs/${job.id}`);
  const after = await scrape();
  const delta = (s: string) => value(after, s) - value(before, s);
  expect(delta('medianode_jobs_total{type="image",status="completed"}')).toBe(1);
  expect(delta('medianode_job_duration_seconds_count{type="image"}')).toBe(1);
  expect(delta('medianode_job_wait_seconds_count{type="image"}')).toBe(1);
  expect(delta('medianode_bytes_total{direction="in"}')).toBe(Bun.file(path).size);
  expect(delta('medianode_bytes_total{direction="out"}')).toBe(done.outputs[0]!.bytes);
  // Route templates, not raw ids: label values stay bounded.
  expect(after).toContain('medianode_http_requests_total{method="GET",route="/v1/jobs/:id",status="200"}');
  expect(after).not.toContain(`route="/v1/jobs/${job.id}"`);
  expect(after).toMatch(/medianode_queue_jobs\{queue="image",state="completed"\} [1-9]/);
});

/** promtool check metrics on a scrape: its stdout+stderr (empty when it has nothing to say). */
function promtool(text: string): { code: number; out: string } {
  const r = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: Buffer.from(text), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: (r.stdout.toString() + r.stderr.toString()).trim() };
}

test("promtool check metrics has nothing to say about a node that has run and failed jobs", async () => {
  const ok = (await (await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-png-palette.png").path) })).json()) as { id: string };
  const bad = (await (await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("bad-truncated.jpg").path) })).json()) as { id: string };
  expect((await waitForJob(t, ok.id)).status).toBe("completed");
  const failed = (await waitForJob(t, bad.id)) as unknown as { status: string; error: { code: string } };
  expect(failed.status).toBe("failed");
  const text = await scrape();
  expect(text).toMatch(new RegExp(`medianode_job_failures_total\\{type="image",code="${failed.error.code}"\\} [1-9]`));
  expect(text).toContain("# TYPE process_cpu_seconds_total counter");
  expect(text).toMatch(/medianode_build_info\{version="[^"]+"\} 1/);
  const r = promtool(text);
  console.log(`promtool check metrics: ${JSON.stringify(r.out)} (exit ${r.code})`);
  expect(r.out).toBe("");
  expect(r.code).toBe(0);
});

test("promtool does complain about a gauge named *_total (the check can fail)", () => {
  const r = promtool("# HELP process_cpu_seconds_total x\n# TYPE process_cpu_seconds_total gauge\nprocess_cpu_seconds_total 1\n");
  expect(r.out).toContain("_total");
});
