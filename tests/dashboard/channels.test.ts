// The dashboard's channel panel in a real browser (Debian's chromium): the channel is listed
// with what plays, and its Listen button plays it through MediaSource in an audio element
// whose currentTime advances.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chromium, type Browser } from "playwright-core";
import { startTestNode, type TestNode } from "../helpers/server";
import { audioJob, makeTone } from "../helpers/stream";
import { tempDir } from "../helpers/tmp";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"];

let node: TestNode;
let browser: Browser;
const dir = tempDir("mn-channels-ui-");

beforeAll(async () => {
  node = await startTestNode();
  const job = await audioJob(node, makeTone(dir.path, "a.wav", 6, 440, "Dashboard Tone"));
  const r = await node.api("/v1/channels", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "lobby", jobs: [job] }) });
  expect(r.status).toBe(201);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await node?.stop();
  dir.remove();
});

/** Browser-side shapes (tsc here has no DOM lib). */
interface AudioLike {
  currentTime: number;
  paused: boolean;
  error: { message: string } | null;
}

test("the channel panel lists the channel and Listen plays it: the audio element's currentTime advances", async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  try {
    await page.goto(`${node.url}/`);
    await page.fill("#token-input", node.token);
    await page.click("#login-form button[type=submit]");
    const item = page.locator('#channels li[data-channel="lobby"]');
    await item.waitFor({ timeout: 15_000 });
    expect(await item.textContent()).toContain("Dashboard Tone");
    await page.click('#channels button.listen[data-channel="lobby"]');
    await page.locator("#player-now", { hasText: "aac 128 kbps" }).waitFor({ timeout: 15_000 });
    // Polled from here: a string waitForFunction is eval'd, which the page's CSP refuses.
    let t = 0;
    for (let i = 0; i < 60 && t < 1.5; i++) {
      await Bun.sleep(250);
      const a = await page.locator("#player").evaluate((el: AudioLike) => ({ t: el.currentTime, paused: el.paused, error: el.error?.message ?? null }));
      expect(a.error).toBeNull();
      t = a.t;
    }
    expect(t).toBeGreaterThan(1.5);
    await page.click("#player-stop");
    expect(await page.locator("#player-box").isHidden()).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    await page.close();
  }
}, 60_000);
