// The ladders play in a browser: hls.js (MSE) in Debian's Chromium (playwright-core), served
// over HTTP with the page. h264 (TS), and the fMP4 codecs Chromium decodes in software (AV1,
// VP9); Chromium asks MediaSource for HEVC support first and the test follows its answer.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { videoDefaults, type ResolvedVideoOptions, type VideoCodec } from "../../../src/jobs/video/options";
import { videoPipeline } from "../../../src/jobs/video/processor";
import { lavfiClip, makeCtx, tempDir } from "../../helpers/media";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"];
const HLS_JS = new URL("../../../node_modules/hls.js/dist/hls.min.js", import.meta.url).pathname;

/** The few browser globals the page code uses (this file is type-checked without the DOM lib). */
interface VideoElement {
  videoWidth: number;
  currentTime: number;
  play(): Promise<void>;
  addEventListener(type: string, fn: () => void): void;
}
interface HlsPlayer {
  loadSource(src: string): void;
  attachMedia(v: VideoElement): void;
  on(event: string, fn: (e: unknown, d: { fatal: boolean; details: string }) => void): void;
}
interface BrowserGlobals {
  MediaSource: { isTypeSupported(type: string): boolean };
  document: { getElementById(id: string): VideoElement };
  Hls: { new (): HlsPlayer; Events: { ERROR: string; MANIFEST_PARSED: string } };
}

const tmp = tempDir("mn-hlsjs-");
let server: ReturnType<typeof Bun.serve>;
let browser: Browser;
const PAGE = `<!doctype html><meta charset="utf-8"><video id="v" muted playsinline></video><script src="/hls.min.js"></script>`;

beforeAll(async () => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const path = decodeURIComponent(new URL(req.url).pathname);
      if (path === "/") return new Response(PAGE, { headers: { "content-type": "text/html" } });
      if (path === "/hls.min.js") return new Response(Bun.file(HLS_JS));
      const file = Bun.file(join(tmp.path, path));
      return file.size > 0 ? new Response(file) : new Response("not found", { status: 404 });
    },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  server?.stop(true);
  tmp.cleanup();
});

async function ladder(codec: VideoCodec): Promise<string> {
  const dir = join(tmp.path, codec);
  mkdirSync(dir);
  const clip = lavfiClip(join(tmp.path, `${codec}-src.mp4`), { durationSec: 2, width: 320, height: 180 });
  await videoPipeline.run(makeCtx<ResolvedVideoOptions>(clip, videoDefaults({ renditions: [180], preset: "ultrafast", codec, poster: false, storyboard: false }), dir));
  return `/${codec}/master.m3u8`;
}

describe("hls.js in Chromium", () => {
  test.each(["h264", "av1", "vp9", "hevc"] as VideoCodec[])("%s ladder: manifest parsed, a fragment buffered, frames shown", async (codec) => {
    const url = await ladder(codec);
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${server.port}/`);
      const codecsLine = (await (await fetch(`http://127.0.0.1:${server.port}${url}`)).text()).match(/CODECS="([^"]+)"/)![1]!;
      const supported = await page.evaluate((c) => (globalThis as unknown as BrowserGlobals).MediaSource.isTypeSupported(`video/mp4; codecs="${c.split(",")[0]}"`), codecsLine);
      if (codec === "h264" || codec === "av1" || codec === "vp9") expect(supported).toBe(true);
      const r = await page.evaluate(
        ([src, timeout]) =>
          new Promise<{ ok: boolean; width: number; time: number; error?: string }>((resolve) => {
            const g = globalThis as unknown as BrowserGlobals;
            const v = g.document.getElementById("v");
            const H = g.Hls;
            const hls = new H();
            const done = (ok: boolean, error?: string) => resolve({ ok, width: v.videoWidth, time: v.currentTime, error });
            hls.on(H.Events.ERROR, (_e: unknown, d: { fatal: boolean; details: string }) => d.fatal && done(false, d.details));
            v.addEventListener("timeupdate", () => v.currentTime > 0.3 && done(true));
            hls.loadSource(src);
            hls.attachMedia(v);
            hls.on(H.Events.MANIFEST_PARSED, () => void v.play().catch((e: Error) => done(false, e.message)));
            setTimeout(() => done(false, "timeout"), timeout);
          }),
        [url, 60_000] as const,
      );
      if (!supported) {
        // This Chromium has no HEVC decoder: hls.js must say so, not hang.
        expect(r.ok).toBe(false);
        return;
      }
      expect(r).toMatchObject({ ok: true, width: 320 });
    } finally {
      await page.close();
    }
  }, 120_000);
});
