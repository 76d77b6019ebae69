// The dashboard's player in Debian's Chromium: a finished video plays (hls.js served by the
// node, under the dashboard's CSP) from its playback URLs, with its poster and the storyboard
// frame on hover; a finished audio job plays too. No console error (a CSP refusal is one).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { lavfiClip } from "../helpers/media";
import { corpus } from "../helpers/corpus";
import { launchChromium } from "../helpers/browser";
import { tempDir } from "../helpers/tmp";


let node: TestNode;
let browser: Browser;
let dir: ReturnType<typeof tempDir>;
let videoId: string;
let audioId: string;

async function submit(path: string, type: string, options: object): Promise<string> {
  const r = await node.api(`/v1/jobs?type=${type}&options=${encodeURIComponent(JSON.stringify(options))}`, { method: "POST", body: Bun.file(path) });
  expect(r.status).toBe(202);
  const id = ((await r.json()) as { id: string }).id;
  expect((await waitForJob(node, id, 120_000)).status).toBe("completed");
  return id;
}

beforeAll(async () => {
  dir = tempDir("mn-dashboard-player-");
  node = await startTestNode();
  const clip = lavfiClip(join(dir.path, "clip.mp4"), { width: 640, height: 360, durationSec: 6 });
  videoId = await submit(clip, "video", { renditions: [360, 240], segmentSec: 2, storyboardIntervalSec: 1 });
  audioId = await submit(corpus("audio-mp3-vbr-xing.mp3").path, "audio", {});
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await node?.stop();
  dir?.remove();
});

/** Browser-side shapes (tsc here has no DOM lib). */
interface Media {
  muted: boolean;
  currentTime: number;
  play(): Promise<void>;
  getAttribute(n: string): string | null;
  dataset: Record<string, string | undefined>;
}
interface Tip {
  hidden: boolean;
  style: { backgroundImage: string; width: string };
}

async function openOutputs(page: Page, id: string) {
  const row = `tr.job-row[data-id="${id}"]`;
  await page.locator(row).waitFor({ timeout: 15_000 });
  await page.click(`${row} button[data-action=outputs]`);
  await page.locator(`${row} + tr.details-row`).waitFor();
  return page.locator(`${row} + tr.details-row`);
}

/** Polled from the test: a string predicate would be eval'd in the page, which the CSP refuses. */
async function until(what: string, check: () => Promise<boolean>, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

test("a finished video plays with hls.js from playback URLs, with its poster and storyboard on hover; an audio job plays", async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  const playbackRequests: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/p/")) playbackRequests.push(r.url());
  });
  try {
    await page.goto(`${node.url}/`);
    await page.fill("#token-input", node.token);
    await page.click("#login-form button[type=submit]");
    await page.locator("#main").waitFor({ state: "visible" });

    const details = await openOutputs(page, videoId);
    const video = details.locator("video.player");
    await video.waitFor();
    await until("hls.js to attach", async () => (await video.evaluate((v: Media) => v.dataset.engine)) === "hls.js");
    expect(await video.getAttribute("poster")).toMatch(/\/p\/[^/]+\/poster\.jpg$/);
    await video.evaluate((v: Media) => {
      v.muted = true;
      return v.play();
    });
    await until("the video to play", async () => (await video.evaluate((v: Media) => v.currentTime)) > 0.3);
    // hls.js was the node's own copy, and media came through /p/ (no token in a header).
    expect(playbackRequests.some((u) => u.endsWith("/master.m3u8"))).toBe(true);
    expect(playbackRequests.some((u) => /\/(360p|240p)\/seg_\d+\.ts$/.test(u))).toBe(true);

    // The storyboard: hovering the timeline shows the sprite frame for that moment.
    const scrub = details.locator(".scrub");
    await scrub.waitFor();
    const box = (await scrub.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2);
    const tip = details.locator(".scrub-tip");
    await until("the storyboard tip", async () => !(await tip.evaluate((t: Tip) => t.hidden)));
    const bg = await tip.evaluate((t: Tip) => t.style.backgroundImage);
    expect(bg).toMatch(/\/p\/[^/]+\/storyboard\.jpg/);
    const cueLate = await tip.getAttribute("data-cue");
    await page.mouse.move(box.x + 2, box.y + box.height / 2);
    await until("the first cue", async () => (await tip.getAttribute("data-cue")) === "0");
    expect(Number(cueLate)).toBeGreaterThan(0);
    // DASHBOARD_SCREENSHOTS=/some/dir keeps it for a look.
    await page.screenshot({ path: join(process.env.DASHBOARD_SCREENSHOTS ?? dir.path, "dashboard-player.png") });

    // Audio: its renditions as <source>s from the playback base.
    const audioDetails = await openOutputs(page, audioId);
    const audio = audioDetails.locator("audio.player");
    await audio.waitFor();
    await audio.evaluate((a: Media) => {
      a.muted = true;
      return a.play();
    });
    await until("the audio to play", async () => (await audio.evaluate((a: Media) => a.currentTime)) > 0.2);
    expect(await audio.evaluate((a: Media & { currentSrc: string }) => a.currentSrc)).toMatch(/\/p\/[^/]+\/audio-\d+k\.(m4a|mp3|opus)$/);
    expect(errors).toEqual([]);
  } finally {
    await page.close();
  }
});
