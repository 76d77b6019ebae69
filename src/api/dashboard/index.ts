// GET / : the dashboard (SPEC §3). Static files embedded as text so the single executable
// carries them; no build step, no CDN. The page is public; every datum it shows comes
// from /v1 with the user's token.
import { Elysia } from "elysia";
import htmlText from "./index.html" with { type: "text" };
// @ts-expect-error: without allowJs, tsc cannot type a .js file; as text, Bun gives a string.
import appJsText from "./app.js" with { type: "text" };
// @ts-expect-error: as above.
import swJsText from "./sw.js" with { type: "text" };
// @ts-expect-error: as above.
import playerJsText from "./player.js" with { type: "text" };
// hls.js from npm, embedded like the rest (no CDN): the UMD build and its Web Worker.
// @ts-expect-error: as above.
import hlsJsText from "hls.js/dist/hls.min.js" with { type: "text" };
// @ts-expect-error: as above.
import hlsWorkerText from "hls.js/dist/hls.worker.js" with { type: "text" };
import css from "./styles.css" with { type: "text" };
import icon from "./icon.svg" with { type: "text" };

// Bun's types call *.html an HTMLBundle (its HTML-import feature); as text it is a string.
const html = htmlText as unknown as string;
const appJs = appJsText as string;
const swJs = swJsText as string;
const playerJs = playerJsText as string;
const hlsJs = hlsJsText as string;
const hlsWorker = hlsWorkerText as string;

/**
 * No inline script or style attribute is needed: app.js sets styles through CSSOM. Media may
 * come from blob: (hls.js feeds MediaSource through one) and, like images and fetches, from the
 * origin playback URLs are built on when that is another (MEDIANODE_PLAYBACK_BASE_URL).
 */
export function dashboardCsp(playbackBaseUrl?: string): string {
  const media = playbackBaseUrl ? ` ${new URL(playbackBaseUrl).origin}` : "";
  return `default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:${media}; img-src 'self' data: blob:${media}; media-src 'self' blob:${media}; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`;
}

function asset(body: string, type: string, csp: string): () => Response {
  return () =>
    new Response(body, {
      headers: {
        "content-type": type,
        "content-security-policy": csp,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        // Embedded in the binary: a new release brings new files, so revalidate each load.
        "cache-control": "no-cache",
      },
    });
}

export function dashboardRoutes(playbackBaseUrl?: string) {
  const csp = dashboardCsp(playbackBaseUrl);
  const js = "text/javascript; charset=utf-8";
  return new Elysia({ name: "dashboard", detail: { hide: true } })
    .get("/", asset(html, "text/html; charset=utf-8", csp))
    .get("/dashboard/app.js", asset(appJs, js, csp))
    .get("/dashboard/player.js", asset(playerJs, js, csp))
    // The service worker of "notify me when done" (Web Push); its scope is /dashboard/.
    .get("/dashboard/sw.js", asset(swJs, js, csp))
    .get("/dashboard/vendor/hls.min.js", asset(hlsJs, js, csp))
    .get("/dashboard/vendor/hls.worker.js", asset(hlsWorker, js, csp))
    .get("/dashboard/styles.css", asset(css, "text/css; charset=utf-8", csp))
    .get("/dashboard/icon.svg", asset(icon, "image/svg+xml", csp));
}
