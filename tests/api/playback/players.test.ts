// Real players on a playback URL (SPEC §10): a page on another origin (a "customer site") plays
// the ladder with hls.js in Debian's Chromium, sending no header, and loads every rung (level
// switches forced); Chromium's native HLS plays the same URL from a bare <video src>.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import type { Server } from "bun";
import { startTestNode, waitForJob, type TestNode } from "../../helpers/server";
import { lavfiClip } from "../../helpers/media";
import { launchChromium } from "../../helpers/browser";
import { tempDir } from "../../helpers/tmp";

/** Muted autoplay needs no gesture in a real page either; this also lets play() start unattended. */
const EXTRA = ["--autoplay-policy=no-user-gesture-required"];
const HLS_JS = Bun.resolveSync("hls.js/dist/hls.min.js", import.meta.dir);

let node: TestNode;
let site: Server<undefined>;
let browser: Browser;
let dir: ReturnType<typeof tempDir>;
let hls: string;
/** Every request the node saw under /p/, with its auth header (there must be none). */
const seen: { path: string; auth: string | null }[] = [];

// The customer's page: its own origin, hls.js from its own server, the URL its backend got.
const PAGE = `<!doctype html><html><body>
<video id="v" muted playsinline width="320"></video>
<script src="/hls.min.js"></script>
<script>
  const v = document.getElementById("v");
  const r = (window.result = { levels: [], loaded: [], errors: [], playing: false });
  const hls = (window.hls = new Hls({ startLevel: 0, capLevelToPlayerSize: false, abrEwmaDefaultEstimate: 100000 }));
  hls.on(Hls.Events.MANIFEST_PARSED, (_e, d) => { r.levels = d.levels.map((l) => l.height); v.play().catch((e) => r.errors.push("play: " + e.message)); });
  hls.on(Hls.Events.FRAG_LOADED, (_e, d) => { if (d.frag.type === "main") r.loaded.push(d.frag.level); });
  hls.on(Hls.Events.ERROR, (_e, d) => r.errors.push(d.details + (d.fatal ? " (fatal)" : "")));
  v.addEventListener("timeupdate", () => { if (v.currentTime > 0.2) r.playing = true; });
  hls.loadSource(new URLSearchParams(location.search).get("src"));
  hls.attachMedia(v);
</script></body></html>`;

beforeAll(async () => {
  dir = tempDir("mn-players-");
  node = await startTestNode();
  const clip = lavfiClip(join(dir.path, "clip.mp4"), { width: 640, height: 360, durationSec: 8 });
  const r = await node.api(`/v1/jobs?type=video&options=${encodeURIComponent(JSON.stringify({ renditions: [360, 240, 144], segmentSec: 2 }))}`, { method: "POST", body: Bun.file(clip) });
  const id = ((await r.json()) as { id: string }).id;
  expect((await waitForJob(node, id, 120_000)).status).toBe("completed");
  hls = ((await (await node.api(`/v1/jobs/${id}/playback`)).json()) as { hls: string }).hls;
  site = Bun.serve({
    port: 0,
    async fetch(req) {
      const u = new URL(req.url);
      if (u.pathname === "/") return new Response(PAGE, { headers: { "content-type": "text/html" } });
      if (u.pathname === "/hls.min.js") return new Response(Bun.file(HLS_JS), { headers: { "content-type": "text/javascript" } });
      return new Response("not here", { status: 404 });
    },
  });
  browser = await launchChromium(EXTRA);
});

afterAll(async () => {
  await browser?.close();
  site?.stop(true);
  await node?.stop();
  dir?.remove();
});

interface PageResult {
  levels: number[];
  loaded: number[];
  errors: string[];
  playing: boolean;
}

describe("hls.js in Chromium, from another origin, with no header", () => {
  test("plays the ladder and loads every rung when switched to it", async () => {
    const page = await browser.newPage();
    page.on("request", (req) => {
      if (req.url().includes("/p/")) seen.push({ path: new URL(req.url()).pathname, auth: req.headers()["authorization"] ?? null });
    });
    try {
      await page.goto(`${site.url}?src=${encodeURIComponent(hls)}`);
      await page.waitForFunction("window.result.levels.length > 0 && window.result.loaded.length > 0", undefined, { timeout: 30_000 });
      const levels = ((await page.evaluate("window.result")) as PageResult).levels;
      expect([...levels].sort((a, b) => a - b)).toEqual([144, 240, 360]);
      await page.waitForFunction("window.result.playing", undefined, { timeout: 30_000 });
      // Force each rung in turn: hls.js flushes the buffer and fetches that rung's fragments.
      for (let i = 0; i < levels.length; i++) {
        await page.evaluate(`window.hls.currentLevel = ${i}`);
        await page.waitForFunction(`window.result.loaded.includes(${i})`, undefined, { timeout: 30_000 });
      }
      const r = (await page.evaluate("window.result")) as PageResult;
      expect(new Set(r.loaded)).toEqual(new Set([0, 1, 2]));
      expect(r.errors.filter((e) => e.includes("fatal"))).toEqual([]);
      expect(r.playing).toBe(true);
      // Cross-origin, and never an Authorization header: the token in the path was all it took.
      expect(seen.length).toBeGreaterThanOrEqual(1 + 3 + 3);
      expect(seen.every((s) => s.auth === null)).toBe(true);
      // hls.js fetches by XHR: from another origin that works only with the node's open CORS.
      expect(new URL(site.url).origin).not.toBe(new URL(hls).origin);
      for (const rung of ["360p", "240p", "144p"]) expect(seen.some((s) => s.path.includes(`/${rung}/seg_`))).toBe(true);
    } finally {
      await page.close();
    }
  });
});

describe("a native player", () => {
  test("Chromium's own HLS (a bare <video src>) plays the same URL", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${site.url}?src=about:blank`);
      const canPlay = (await page.evaluate(`document.createElement("video").canPlayType("application/vnd.apple.mpegurl")`)) as string;
      // Chromium's native HLS player (recent versions) is what this checks; without one there is nothing to check.
      if (!canPlay) {
        console.warn("this Chromium has no native HLS: native-player check not run");
        return;
      }
      await page.evaluate(`(() => {
        document.body.innerHTML = "";
        const v = document.createElement("video");
        v.muted = true;
        v.src = ${JSON.stringify(hls)};
        window.nativeTime = 0;
        v.addEventListener("timeupdate", () => (window.nativeTime = v.currentTime));
        document.body.append(v);
        v.play();
      })()`);
      await page.waitForFunction("window.nativeTime > 0.5", undefined, { timeout: 30_000 });
    } finally {
      await page.close();
    }
  });
});
