// The dashboard's statistics view in a real browser (issue #20): the hourly chart and the
// error-code chart are drawn with the numbers of GET /v1/stats (checked against the jobs made
// here), the filter box narrows both with the same query parameters, and a bad filter says so.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { newJobId } from "../../src/ids";
import type { JobType } from "../../src/jobs/schema";
import { launchChromium } from "../helpers/browser";
import { startTestNode, type TestNode } from "../helpers/server";

let node: TestNode;
let browser: Browser;
const HOUR = 3_600_000;
// Per hour back from now: [completed, failed, cancelled] (hours not listed have no job).
const PLAN: Record<number, [number, number, number]> = { 1: [3, 1, 0], 2: [5, 0, 1], 5: [2, 2, 0], 20: [1, 3, 1] };
const hourKey = (ms: number) => new Date(ms).toISOString().slice(0, 13) + ":00Z";
const made: { hour: string; status: string; store: string; code: string | null }[] = [];

beforeAll(async () => {
  node = await startTestNode();
  const records = await node.records();
  const now = Date.now();
  let n = 0;
  for (const [back, counts] of Object.entries(PLAN)) {
    // The middle of that hour, so the job is inside it whatever the minute now.
    const at = Math.floor((now - Number(back) * HOUR) / HOUR) * HOUR + HOUR / 2;
    for (const [i, status] of (["completed", "failed", "cancelled"] as const).entries()) {
      for (let k = 0; k < counts[i]!; k++) {
        const id = newJobId();
        const store = n++ % 2 ? "s1" : "s2";
        const code = status === "failed" ? (k % 2 ? "TIMEOUT" : "INVALID_INPUT") : status === "cancelled" ? "CANCELLED" : null;
        await records.jobs.insertMany([{ id, tenant: "admin", tokenId: null, type: "image" as JobType, priority: 0, source: { kind: "url", url: "https://example.com/a.jpg" }, options: {}, metadata: { store }, webhook: null, idempotencyKey: null, maxAttempts: 1, now: at }]);
        await records.jobs.markActive(id, 1, 1, "n1", at + 100);
        await records.jobs.finish(id, 1, { status, at: at + 900, result: status === "completed" ? { durationSec: 3 } : null, error: code ? { code: code as "TIMEOUT", message: "x" } : null });
        made.push({ hour: hourKey(at), status, store, code });
      }
    }
  }
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await node?.stop();
});

/** What the page drew: per bar its hour/status/count, per error bar its code/count. */
async function drawn(page: import("playwright-core").Page) {
  return await page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ getAttribute(n: string): string | null }> } }).document;
    const bars = Array.from(doc.querySelectorAll("#chart-hourly rect.bar")).map((r) => [r.getAttribute("data-hour"), r.getAttribute("data-status"), Number(r.getAttribute("data-count"))] as const);
    const errors = Array.from(doc.querySelectorAll("#chart-errors rect.bar")).map((r) => [r.getAttribute("data-code"), Number(r.getAttribute("data-count"))] as const);
    return { bars, errors };
  });
}

function expected(filter: (m: (typeof made)[number]) => boolean) {
  const bars = new Map<string, number>();
  const errors = new Map<string, number>();
  for (const m of made.filter(filter)) {
    bars.set(`${m.hour} ${m.status}`, (bars.get(`${m.hour} ${m.status}`) ?? 0) + 1);
    if (m.status === "failed") errors.set(m.code!, (errors.get(m.code!) ?? 0) + 1);
  }
  return { bars: Object.fromEntries(bars), errors: Object.fromEntries(errors) };
}

test("the charts show the jobs per hour by status and the failures by code; the filter box narrows them", async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  await page.goto(node.url + "/");
  await page.fill("#token-input", node.token);
  await page.click("#login-form button[type=submit]");
  await page.locator("#chart-hourly rect.bar").first().waitFor({ timeout: 15_000 });

  const total = made.filter((m) => Date.parse(m.hour) >= Date.now() - 25 * HOUR).length;
  expect(await page.locator("#stats-summary").getAttribute("data-total")).toBe(String(total));
  const all = await drawn(page);
  expect(Object.fromEntries(all.bars.map(([h, s, n]) => [`${h} ${s}`, n]))).toEqual(expected(() => true).bars);
  expect(Object.fromEntries(all.errors)).toEqual(expected(() => true).errors);

  // The same query parameters as the API: a metadata key and a status.
  await page.fill("#stats-filter", "store=s1 status=failed");
  await page.click("#stats-form button[type=submit]");
  await page.waitForFunction((want) => (globalThis as unknown as { document: { getElementById(i: string): { dataset: { total?: string } } | null } }).document.getElementById("stats-summary")?.dataset.total === want, String(made.filter((m) => m.store === "s1" && m.status === "failed").length));
  const narrowed = await drawn(page);
  expect(Object.fromEntries(narrowed.bars.map(([h, s, n]) => [`${h} ${s}`, n]))).toEqual(expected((m) => m.store === "s1" && m.status === "failed").bars);
  expect(Object.fromEntries(narrowed.errors)).toEqual(expected((m) => m.store === "s1" && m.status === "failed").errors);

  // Not key=value: a clear message, the charts left as they were.
  await page.fill("#stats-filter", "oops");
  await page.click("#stats-form button[type=submit]");
  await page.locator(".toast", { hasText: "not key=value" }).waitFor({ timeout: 5_000 });
  expect(problems).toEqual([]);
  await page.close();
}, 60_000);
