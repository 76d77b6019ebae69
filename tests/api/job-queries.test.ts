// GET /v1/jobs filters, /v1/stats and /v1/jobs/export over HTTP, and their CLI commands, on a
// real node (issue #20): tenancy, the answers against counts computed here, streaming, and a
// clear 400 for every bad parameter. (The SQL itself is checked on both engines in
// tests/store/job-query.test.ts.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { csvCell } from "../../src/api/jobs/export";
import { newJobId } from "../../src/ids";
import type { JobType } from "../../src/jobs/schema";
import { createToken } from "../../src/services/tokens";
import { startTestNode, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";
import { expectExit, runCli } from "../cli/run";

let t: TestNode;
let tenantA: string;
let tenantB: string;
let noRead: string;
const dir = tempDir();
const HOUR = 3_600_000;
const NOW = Date.now();

interface Made {
  id: string;
  tenant: string;
  store: string;
  status: "completed" | "failed";
  createdAt: number;
  ms: number;
}
const made: Made[] = [];

beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_INDEXED_METADATA: "store" });
  const records = await t.records();
  tenantA = (await createToken(records, { name: "a", scopes: ["jobs:read", "jobs:write"], tenant: "shop-a" }, "test")).token;
  tenantB = (await createToken(records, { name: "b", scopes: ["jobs:read"], tenant: "shop-b" }, "test")).token;
  noRead = (await createToken(records, { name: "w", scopes: ["jobs:write"], tenant: "shop-a" }, "test")).token;
  // 90 finished jobs over the last 30 hours: two tenants, three stores, some failures.
  for (let i = 0; i < 90; i++) {
    const createdAt = NOW - 30 * HOUR + i * 20 * 60_000;
    const tenant = i % 3 === 0 ? "shop-b" : "shop-a";
    const store = `store-${i % 3 === 1 ? 42 : i % 2}`;
    const status = i % 5 === 0 ? "failed" : "completed";
    const id = newJobId();
    const [r] = await records.jobs.insertMany([{ id, tenant, tokenId: null, type: (["image", "video"] as JobType[])[i % 2]!, priority: 0, source: { kind: "url", url: "https://example.com/x.jpg" }, options: {}, metadata: { store, uid: `u-${i}`, note: i === 7 ? '=HYPERLINK("x"), "quoted"\nline' : "plain" }, webhook: null, idempotencyKey: null, maxAttempts: 3, now: createdAt }]);
    if (!r || "error" in r) throw new Error("insert");
    await records.jobs.markActive(id, 1, 1, `node-${i % 2}`, createdAt + 1000);
    const ms = 200 + i * 10;
    await records.jobs.finish(id, 1, { status, at: createdAt + 1000 + ms, result: status === "completed" ? { durationSec: 10 } : null, error: status === "failed" ? { code: i % 2 ? "TIMEOUT" : "INVALID_INPUT", message: "bad" } : null });
    made.push({ id, tenant, store, status, createdAt, ms });
  }
  made.sort((a, b) => (a.id < b.id ? 1 : -1));
}, 120_000);
afterAll(async () => {
  await t.stop();
  dir.remove();
});

const as = (token: string, path: string) => fetch(t.url + path, { headers: { authorization: `Bearer ${token}` } });
const ids = async (r: Response) => ((await r.json()) as { items: { id: string }[] }).items.map((j) => j.id);

describe("GET /v1/jobs filters", () => {
  test("a store's jobs of the last 24 h, for its tenant only, newest first", async () => {
    const since = new Date(NOW - 24 * HOUR).toISOString();
    const want = made.filter((m) => m.tenant === "shop-a" && m.store === "store-42" && m.createdAt >= NOW - 24 * HOUR).map((m) => m.id);
    expect(want.length).toBeGreaterThan(5);
    const r = await as(tenantA, `/v1/jobs?metadata.store=store-42&createdAfter=${encodeURIComponent(since)}&limit=500`);
    expect(r.status).toBe(200);
    expect(await ids(r)).toEqual(want);
    // Tenant b sees none of tenant a's, with the same filter.
    expect((await ids(await as(tenantB, `/v1/jobs?metadata.store=store-42&limit=500`))).every((id) => made.find((m) => m.id === id)!.tenant === "shop-b")).toBe(true);
  });

  test("status + error code + node, ANDed with two metadata keys; paging with the cursor", async () => {
    const want = made.filter((m) => m.status === "failed" && m.store === "store-1").map((m) => m.id);
    const all: string[] = [];
    let cursor = "";
    for (let i = 0; i < 20; i++) {
      const r = (await (await t.api(`/v1/jobs?status=failed&metadata.store=store-1&limit=2${cursor ? `&cursor=${cursor}` : ""}`)).json()) as { items: { id: string }[]; nextCursor: string | null };
      all.push(...r.items.map((j) => j.id));
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    expect(all).toEqual(want);
    const timeout = await ids(await t.api("/v1/jobs?errorCode=TIMEOUT&node=node-1&limit=500"));
    expect(timeout.length).toBeGreaterThan(0);
    for (const id of timeout) {
      const j = (await (await t.api(`/v1/jobs/${id}`)).json()) as { error: { code: string }; node: string };
      expect([j.error.code, j.node]).toEqual(["TIMEOUT", "node-1"]);
    }
  });

  test.each([
    ["metadata.bad key=1", "metadata filter key"],
    ["errorCode=NOPE", "errorCode"],
    ["createdAfter=yesterday", "createdAfter must be"],
    ["status=done", "parameter status: must be one of queued, active, completed, failed, cancelled (got \"done\")"],
    ["limit=0", "parameter limit"],
    [Array.from({ length: 9 }, (_, i) => `metadata.k${i}=v`).join("&"), "at most 8"],
  ])("?%s → 400 naming the problem", async (q, words) => {
    const r = await t.api(`/v1/jobs?${q.replace(" ", "%20")}`);
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("BAD_REQUEST");
    expect(body.error.message).toContain(words);
  });
});

describe("GET /v1/stats", () => {
  test("by status over the last 24 h for a tenant: counts, failure rate, media seconds, p50/p95", async () => {
    const r = await as(tenantA, "/v1/stats?groupBy=status");
    expect(r.status).toBe(200);
    const body = (await r.json()) as { from: string; to: string; groups: { key: string; jobs: number; completed: number; failed: number; failureRate: number | null; mediaSec: number; p50Sec: number | null; p95Sec: number | null }[] };
    const mine = made.filter((m) => m.tenant === "shop-a" && m.createdAt >= Date.parse(body.from) && m.createdAt < Date.parse(body.to));
    const done = mine.filter((m) => m.status === "completed").map((m) => m.ms).sort((a, b) => a - b);
    const completed = body.groups.find((g) => g.key === "completed")!;
    expect(completed).toMatchObject({ jobs: done.length, completed: done.length, failed: 0, failureRate: 0, mediaSec: done.length * 10 });
    expect(completed.p50Sec).toBe(done[Math.ceil(0.5 * done.length) - 1]! / 1000);
    expect(completed.p95Sec).toBe(done[Math.ceil(0.95 * done.length) - 1]! / 1000);
    expect(body.groups.find((g) => g.key === "failed")).toMatchObject({ jobs: mine.length - done.length, failureRate: 1, p50Sec: null });
  });

  test("admin sees every tenant; by metadata.store with the list filters", async () => {
    const from = new Date(NOW - 31 * HOUR).toISOString();
    const body = (await (await t.api(`/v1/stats?groupBy=metadata.store&from=${from}&status=completed`)).json()) as { groups: { key: string; jobs: number }[] };
    const want = new Map<string, number>();
    for (const m of made.filter((m) => m.status === "completed")) want.set(m.store, (want.get(m.store) ?? 0) + 1);
    expect(Object.fromEntries(body.groups.map((g) => [g.key, g.jobs]))).toEqual(Object.fromEntries(want));
  });

  test.each([
    ["groupBy=color", "groupBy must be"],
    ["from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "from must be before to"],
    ["from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "366 days"],
    ["groupBy=metadata.a'b", "groupBy must be"],
  ])("?%s → 400", async (q, words) => {
    const r = await t.api(`/v1/stats?${q}`);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain(words);
  });

  test("a token without jobs:read: 403 on stats, list and export", async () => {
    for (const p of ["/v1/stats", "/v1/jobs", "/v1/jobs/export"]) expect((await as(noRead, p)).status).toBe(403);
  });
});

describe("GET /v1/jobs/export", () => {
  test("NDJSON: every matching job, one view per line, as a download", async () => {
    const r = await as(tenantA, "/v1/jobs/export?format=ndjson");
    expect(r.headers.get("content-type")).toBe("application/x-ndjson");
    expect(r.headers.get("content-disposition")).toMatch(/^attachment; filename="jobs-\d{4}-\d{2}-\d{2}\.ndjson"$/);
    const lines = (await r.text()).trimEnd().split("\n");
    const jobs = lines.map((l) => JSON.parse(l) as { id: string; metadata: { store: string } });
    expect(jobs.map((j) => j.id)).toEqual(made.filter((m) => m.tenant === "shop-a").map((m) => m.id));
  });

  test("CSV: a header row, RFC 4180 quoting, filters applied", async () => {
    const r = await t.api("/v1/jobs/export?format=csv&metadata.store=store-42");
    expect(r.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const text = await r.text();
    expect(text.split("\r\n")[0]).toBe("id,type,status,priority,attempts,node,createdAt,startedAt,finishedAt,durationSec,errorCode,errorMessage,outputs,metadata");
    expect(text.match(/^j_/gm)!.length).toBe(made.filter((m) => m.store === "store-42").length);
    // Job 7's metadata holds quotes, a comma and a formula: one quoted cell, quotes doubled (RFC 4180).
    const json = JSON.stringify({ store: "store-42", uid: "u-7", note: '=HYPERLINK("x"), "quoted"\nline' });
    expect(text).toContain(`,"${json.replaceAll('"', '""')}"\r\n`);
  });

  test("CSV cells: a formula is neutralised, numbers and empty cells as they are", () => {
    expect(csvCell("=1+1")).toBe("'=1+1");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell('-2,"x"')).toBe(`"'-2,""x"""`);
    expect(csvCell(-2)).toBe("-2");
    expect(csvCell(null)).toBe("");
    expect(csvCell("a\nb")).toBe('"a\nb"');
  });

  test("format=xml → 400", async () => {
    expect((await t.api("/v1/jobs/export?format=xml")).status).toBe(400);
  });
});

describe("CLI", () => {
  const env = () => ({ MEDIANODE_URL: t.url, MEDIANODE_TOKEN: tenantA });

  test("jobs list --meta --since --status --json: the same jobs as the API", async () => {
    const r = expectExit(await runCli(["jobs", "list", "--meta", "store=store-42", "--since", "24h", "--status", "completed", "--limit", "500", "--json"], { env: env() }), 0);
    const want = made.filter((m) => m.tenant === "shop-a" && m.store === "store-42" && m.status === "completed" && m.createdAt >= NOW - 24 * HOUR).map((m) => m.id);
    // --since is "now" at the CLI's run: a job at the edge may fall out, none may come in.
    const got = (JSON.parse(r.stdout) as { items: { id: string }[] }).items.map((j) => j.id);
    expect(got.every((id) => want.includes(id))).toBe(true);
    expect(got.length).toBeGreaterThanOrEqual(want.length - 1);
  });

  test("jobs list --error-code with a code not on the list: a usage error (exit 2), nothing asked", async () => {
    const r = await runCli(["jobs", "list", "--error-code", "NOPE"], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("NOPE");
  });

  test("stats prints a table by the asked group; --json is the API's answer", async () => {
    const table = expectExit(await runCli(["stats", "--group-by", "metadata.store", "--since", "31h"], { env: env() }), 0).stdout;
    expect(table).toContain("store-42");
    expect(table).toMatch(/JOBS\s+COMPLETED\s+FAILED/);
    const j = JSON.parse(expectExit(await runCli(["stats", "--group-by", "type", "--since", "31h", "--json"], { env: env() }), 0).stdout) as { groups: { key: string; jobs: number }[] };
    expect(j.groups.reduce((a, g) => a + g.jobs, 0)).toBe(made.filter((m) => m.tenant === "shop-a").length);
  });

  test("jobs export --format csv -o file writes the whole export", async () => {
    const out = join(dir.path, "export.csv");
    const r = expectExit(await runCli(["jobs", "export", "--format", "csv", "-o", out], { env: env() }), 0);
    expect(r.stderr).toContain("wrote");
    const text = await Bun.file(out).text();
    expect(text.match(/^j_/gm)!.length).toBe(made.filter((m) => m.tenant === "shop-a").length);
  });
});
