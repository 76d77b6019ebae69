// GET / : the dashboard (SPEC §3). Static files embedded as text so the single executable
// carries them; no build step, no CDN. The page is public; every datum it shows comes
// from /v1 with the user's token.
import { Elysia } from "elysia";
import htmlText from "./index.html" with { type: "text" };
// @ts-expect-error: without allowJs, tsc cannot type a .js file; as text, Bun gives a string.
import appJsText from "./app.js" with { type: "text" };
import css from "./styles.css" with { type: "text" };
import icon from "./icon.svg" with { type: "text" };

// Bun's types call *.html an HTMLBundle (its HTML-import feature); as text it is a string.
const html = htmlText as unknown as string;
const appJs = appJsText as string;

/** No inline script or style attribute is needed: app.js sets styles through CSSOM. media-src blob: is the channel player's MediaSource. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function asset(body: string, type: string): () => Response {
  return () =>
    new Response(body, {
      headers: {
        "content-type": type,
        "content-security-policy": DASHBOARD_CSP,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        // Embedded in the binary: a new release brings new files, so revalidate each load.
        "cache-control": "no-cache",
      },
    });
}

export function dashboardRoutes() {
  return new Elysia({ name: "dashboard", detail: { hide: true } })
    .get("/", asset(html, "text/html; charset=utf-8"))
    .get("/dashboard/app.js", asset(appJs, "text/javascript; charset=utf-8"))
    .get("/dashboard/styles.css", asset(css, "text/css; charset=utf-8"))
    .get("/dashboard/icon.svg", asset(icon, "image/svg+xml"));
}
