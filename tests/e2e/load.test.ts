// Issue 7 "Load", the way CCTV-alert users test it: 1,000 concurrent POST /v1/jobs (a 1x1 JPEG
// from the corpus by path: the image pipeline runs in-thread, so the test measures the
// accept → enqueue → run → record path, not 1,000 process spawns) → 1,000 202s → 1,000
// completed jobs, none lost, none twice.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { corpus, CORPUS_DIR } from "../helpers/corpus";
import { startTestNode, type TestNode } from "../helpers/server";

const N = 1000;
let t: TestNode;
beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_IMPORT_DIRS: CORPUS_DIR, MEDIANODE_CONCURRENCY: "image=4" });
});
afterAll(async () => {
  await t.stop();
});

type Row = { id: string; status: string; attempts: number; result: { thumbhash?: string } | null; outputs: unknown[]; metadata: { n: number } | null };
async function allJobs(): Promise<Row[]> {
  const out: Row[] = [];
  let cursor: string | null = null;
  do {
    const page = (await (await t.api(`/v1/jobs?type=image&limit=500${cursor ? `&cursor=${cursor}` : ""}`)).json()) as { items: Row[]; nextCursor: string | null };
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

test(`${N} concurrent submissions: ${N} × 202, ${N} completed, none lost, none twice`, async () => {
  const path = corpus("image-jpeg-1x1.jpg").path;
  const responses = await Promise.all(
    Array.from({ length: N }, (_, n) =>
      t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", source: { path }, metadata: { n } }) }),
    ),
  );
  expect(responses.map((r) => r.status)).toEqual(Array(N).fill(202));
  const accepted = (await Promise.all(responses.map((r) => r.json()))) as Row[];
  const ids = new Set(accepted.map((j) => j.id));
  expect(ids.size).toBe(N);

  let jobs: Row[] = [];
  for (const until = Date.now() + 130_000; Date.now() < until; ) {
    jobs = await allJobs();
    if (jobs.filter((j) => j.status === "completed").length === N) break;
    await Bun.sleep(100);
  }
  expect(jobs.length).toBe(N);
  expect(new Set(jobs.map((j) => j.id))).toEqual(ids);
  expect(jobs.filter((j) => j.status !== "completed")).toEqual([]);
  // Each ran once and kept its own request's metadata.
  expect(jobs.filter((j) => j.attempts !== 1)).toEqual([]);
  expect(new Set(jobs.map((j) => j.metadata!.n)).size).toBe(N);
  expect(jobs.filter((j) => !j.result?.thumbhash || j.outputs.length !== 2)).toEqual([]);
  // One terminal record each: the terminal-event counter saw each job once.
  const metrics = await (await fetch(t.url + "/metrics")).text();
  expect(metrics).toContain(`medianode_jobs_total{type="image",status="completed"} ${N}`);
}, 170_000);
