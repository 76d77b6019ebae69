// The dashboard at GET /, driven in a real browser (Debian's chromium via playwright-core):
// log in, upload a video through the page, watch its progress bar move and its row turn
// completed; pause a queue, cancel and retry a job, resume; no console errors under the CSP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { corpusPath, lavfiClip } from "../helpers/media";
import { tempDir } from "../helpers/tmp";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let node: TestNode;
let browser: Browser;
let dir: ReturnType<typeof tempDir>;
let clip: string;
/** Screenshots go here (DASHBOARD_SCREENSHOTS=/some/dir keeps them for a look). */
let shots: string;

beforeAll(async () => {
  dir = tempDir("mn-dashboard-");
  shots = process.env.DASHBOARD_SCREENSHOTS ?? dir.path;
  mkdirSync(shots, { recursive: true });
  clip = lavfiClip(join(dir.path, "clip.mp4"), { width: 1280, height: 720, durationSec: 10 });
  node = await startTestNode();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await node?.stop();
  dir?.remove();
});

describe("dashboard assets", () => {
  test("/ is public HTML with the CSP and security headers; app.js and styles.css have their types", async () => {
    const r = await fetch(`${node.url}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("text/html");
    const csp = r.headers.get("content-security-policy") ?? "";
    for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self' ws: wss:", "img-src 'self' data: blob:", "frame-ancestors 'none'"]) expect(csp).toContain(d);
    expect(csp).not.toContain("unsafe-inline");
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await r.text();
    // No inline script or style: everything is a file the CSP allows.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/<style/);
    expect(html).not.toMatch(/\son[a-z]+=/);

    const js = await fetch(`${node.url}/dashboard/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toStartWith("text/javascript");
    expect(await js.text()).toContain("/v1/events");
    const css = await fetch(`${node.url}/dashboard/styles.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toStartWith("text/css");
    expect(await css.text()).toContain("prefers-color-scheme");
    // The data behind the page still needs the token.
    expect((await fetch(`${node.url}/v1/jobs`)).status).toBe(401);
  });
});

interface Watch {
  errors: string[];
}

function watchConsole(page: Page): Watch {
  const w: Watch = { errors: [] };
  page.on("console", (m) => {
    if (m.type() === "error") w.errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => w.errors.push(`pageerror: ${e.message}`));
  return w;
}

async function login(page: Page, token: string) {
  await page.fill("#token-input", token);
  await page.click("#login-form button[type=submit]");
}

/** Browser-side callbacks: tsc here has no DOM lib, so the few shapes they touch are declared. */
interface El {
  dataset: Record<string, string | undefined>;
  style: { width: string };
  textContent: string | null;
  querySelector(s: string): El | null;
  querySelectorAll(s: string): { length: number };
  getAttribute(n: string): string | null;
}

const row = (id: string) => `tr.job-row[data-id="${id}"]`;

async function submitThroughPage(page: Page, file: string, options: object): Promise<string> {
  await page.setInputFiles("#file", file);
  await page.selectOption("#type", "video");
  if ((await page.locator(".opts[open]").count()) === 0) await page.click(".opts summary");
  await page.fill("#options", JSON.stringify(options));
  await page.click("#submit-btn");
  const msg = page.locator("#submit-msg[data-job-id]");
  await msg.waitFor({ timeout: 30_000 });
  return (await msg.getAttribute("data-job-id"))!;
}

describe("dashboard in chromium", () => {
  test("a wrong token gets a clear 401 message", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${node.url}/`);
      await login(page, "mn_nope.nope");
      const err = page.locator("#login-error");
      await err.waitFor({ state: "visible" });
      expect(await err.textContent()).toContain("401");
      expect(await page.locator("#main").isHidden()).toBe(true);
    } finally {
      await page.close();
    }
  });

  test("log in, upload a video, watch it progress and complete; pause, cancel, retry, resume", async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const watch = watchConsole(page);
    try {
      const res = await page.goto(`${node.url}/`);
      expect(res!.headers()["content-security-policy"]).toContain("script-src 'self'");
      await page.screenshot({ path: join(shots, "login.png") });
      await login(page, node.token);
      await page.locator("#main").waitFor({ state: "visible" });
      await page.locator("#conn.conn-on").waitFor({ timeout: 10_000 });
      await page.locator('.queue[data-queue="video"]').waitFor();
      expect(await page.locator(".queue").count()).toBe(5);
      // The token is remembered: a reload goes straight to the dashboard.
      await page.reload();
      await page.locator("#main").waitFor({ state: "visible" });

      // Upload through the page: the row appears and its bar moves.
      const id = await submitThroughPage(page, clip, { renditions: [720, 480, 360], remux: false, preset: "medium" });
      expect(await page.textContent("#upload-pct")).toBe("100%");
      await page.locator(row(id)).waitFor();
      const widths: number[] = [];
      let sawEta = false;
      let sawRenditions = false;
      let shotActive = false;
      const until = Date.now() + 90_000;
      for (;;) {
        const s = await page.locator(row(id)).evaluate((tr: El) => ({
          status: tr.dataset.status,
          width: tr.querySelector(".bar > span")!.style.width,
          eta: tr.querySelector(".cell-eta")!.textContent,
          rends: tr.querySelectorAll(".renditions .mini").length,
        }));
        const w = parseFloat(s.width) || 0;
        if (s.status === "active" && w > 0 && w < 100 && widths.at(-1) !== w) widths.push(w);
        if (s.status === "active" && /\d+s/.test(s.eta ?? "")) sawEta = true;
        if (s.rends > 0) sawRenditions = true;
        if (widths.length === 2 && !shotActive) {
          shotActive = true;
          await page.screenshot({ path: join(shots, "dashboard-active.png") });
        }
        if (s.status === "completed") {
          expect(w).toBe(100);
          break;
        }
        expect(s.status).not.toBe("failed");
        if (Date.now() > until) throw new Error(`job ${id} still ${s.status} in the page`);
        await Bun.sleep(100);
      }
      // At least two readings of a moving bar, never going back.
      expect(widths.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < widths.length; i++) expect(widths[i]!).toBeGreaterThan(widths[i - 1]!);
      expect(sawEta).toBe(true);
      expect(sawRenditions).toBe(true);
      expect(await page.locator(`${row(id)} .badge-completed`).count()).toBe(1);

      // Its outputs: links to the playlist and the MP4, and the poster as a preview.
      await page.click(`${row(id)} button[data-action=outputs]`);
      const details = page.locator(`${row(id)} + tr.details-row`);
      await details.waitFor();
      const links = await details.locator("a.mono").evaluateAll((as: El[]) => as.map((a) => a.getAttribute("href")!));
      expect(links.some((h) => h.includes("/outputs/master.m3u8"))).toBe(true);
      expect(links.some((h) => h.includes("/outputs/video.mp4"))).toBe(true);
      // Polled from here: a string predicate for waitForFunction is eval'd in the page, which
      // the dashboard's CSP (no unsafe-eval) refuses whenever the first check is not yet true.
      const posterShown = () => page.locator("img.thumb").evaluateAll((imgs: { naturalWidth: number }[]) => imgs.some((i) => i.naturalWidth > 0));
      for (let i = 0; i < 100 && !(await posterShown()); i++) await Bun.sleep(100);
      expect(await posterShown()).toBe(true);
      const mp4 = await fetch(node.url + links.find((h) => h.includes("video.mp4"))!);
      expect(mp4.status).toBe(200);

      // Pause the video queue from the page: the next job waits, so it can be cancelled.
      const videoQueue = page.locator('.queue[data-queue="video"]');
      await videoQueue.locator("button.queue-toggle").click();
      await page.locator('.queue.is-paused[data-queue="video"]').waitFor();
      expect(await videoQueue.locator("button.queue-toggle").textContent()).toBe("Resume");
      const queues = (await (await node.api("/v1/queues")).json()) as { items: { name: string; paused: boolean }[] };
      expect(queues.items.find((q) => q.name === "video")!.paused).toBe(true);

      await page.screenshot({ path: join(shots, "dashboard-before-second.png"), fullPage: true });
      const id2 = await submitThroughPage(page, clip, { renditions: [360] });
      await page.locator(`${row(id2)}[data-status=queued]`).waitFor();
      await page.click(`${row(id2)} button[data-action=cancel]`);
      await page.locator(`${row(id2)}[data-status=cancelled]`).waitFor();
      expect(((await (await node.api(`/v1/jobs/${id2}`)).json()) as { status: string }).status).toBe("cancelled");
      await page.click(`${row(id2)} button[data-action=retry]`);
      await page.locator(`${row(id2)}[data-status=queued]`).waitFor();

      // Resume: the retried job runs to the end, and the page shows it.
      await videoQueue.locator("button.queue-toggle").click();
      await page.locator('.queue[data-queue="video"]:not(.is-paused)').waitFor();
      const q2 = (await (await node.api("/v1/queues")).json()) as { items: { name: string; paused: boolean }[] };
      expect(q2.items.find((q) => q.name === "video")!.paused).toBe(false);
      expect((await waitForJob(node, id2, 90_000)).status).toBe("completed");
      await page.locator(`${row(id2)}[data-status=completed]`).waitFor({ timeout: 10_000 });
      await page.locator('.queue[data-queue="video"] dd[data-k="completed"]').filter({ hasText: /^2$/ }).waitFor({ timeout: 15_000 });

      // Dead letter: a corrupt video fails once (attempts=1) and shows its code, message and
      // stderr tail; Retry from that panel requeues it.
      const bad = corpusPath("bad-vp9-invalid-bitstream.webm");
      const sub = await node.api("/v1/jobs?type=video&attempts=1&filename=broken.webm", { method: "POST", body: Bun.file(bad), headers: { "content-type": "video/webm" } });
      expect(sub.status).toBe(202);
      const id3 = ((await sub.json()) as { id: string }).id;
      const failedJob = (await waitForJob(node, id3, 60_000)) as { status: string; error: { code: string; stderrTail?: string } };
      expect(failedJob.status).toBe("failed");
      const item = page.locator(`.failed-item[data-id="${id3}"]`);
      await item.waitFor({ timeout: 10_000 });
      expect(await item.locator(".code").textContent()).toBe(failedJob.error.code);
      if (failedJob.error.stderrTail) {
        await item.locator(".stderr summary").first().click();
        expect(await item.locator(".stderr pre").first().isVisible()).toBe(true);
      }
      await page.locator(`${row(id3)}[data-status=failed]`).waitFor();
      await page.screenshot({ path: join(shots, "dashboard-failed.png"), fullPage: true });
      await item.locator("button[data-action=retry]").click();
      await page.locator(`${row(id3)}:is([data-status=queued], [data-status=active], [data-status=failed])`).waitFor();
      expect((await waitForJob(node, id3, 60_000)).status).toBe("failed");
      const attempts = ((await (await node.api(`/v1/jobs/${id3}`)).json()) as { attempts: number }).attempts;
      expect(attempts).toBeGreaterThanOrEqual(1);

      await page.locator("#nodes li.node").first().waitFor();
      // (a sticky top bar lands mid-image in a full-page shot taken scrolled down)
      await page.evaluate("window.scrollTo(0, 0)");
      await page.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });
      await page.emulateMedia({ colorScheme: "dark" });
      await page.screenshot({ path: join(shots, "dashboard-dark.png"), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(shots, "dashboard-mobile.png"), fullPage: true });

      // Log out: the token is forgotten.
      await page.click("#logout");
      await page.locator("#login").waitFor({ state: "visible" });
      expect(await page.evaluate(() => localStorage.getItem("medianode.token"))).toBeNull();
      expect(watch.errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
