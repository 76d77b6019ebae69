// GET /docs (Swagger UI) and /docs/json (the OpenAPI document). The UI's script and styles are
// the swagger-ui-dist package's, embedded as text and served by the node itself, so the page
// works on a host with no internet access (the plugin's default loads them from a CDN), and
// in the single executable. Internal routes (/v1/worker/*) hide themselves (detail.hide).
import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
// @ts-expect-error: without allowJs, tsc cannot type a .js file; as text, Bun gives a string.
import bundleText from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import css from "swagger-ui-dist/swagger-ui.css" with { type: "text" };
import { VERSION } from "../version";

const ASSETS = "/docs/assets";
const bundle = bundleText as string;

const asset = (body: string, type: string) => () =>
  new Response(body, { headers: { "content-type": type, "cache-control": "public, max-age=86400", "x-content-type-options": "nosniff" } });

export function docsRoutes() {
  return new Elysia({ name: "docs" })
    .use(
      openapi({
        path: "/docs",
        provider: "swagger-ui",
        swagger: { cdn: `${ASSETS}/swagger-ui-bundle.js`, theme: `${ASSETS}/swagger-ui.css`, autoDarkMode: false },
        documentation: {
          info: {
            title: "medianode",
            version: VERSION,
            description:
              "Self-hosted media processing node: probe, image, video, audio and thumbnail jobs. Every route but /healthz, /readyz and /metrics needs a token: `Authorization: Bearer <token>` (or `?token=`). Errors are `{error: {code, message, details?}}`; the live event stream is the WebSocket `GET /v1/events`.",
          },
          tags: [
            { name: "jobs", description: "Submit, list, cancel and retry jobs" },
            { name: "outputs", description: "A finished job's files" },
            { name: "queues", description: "Queue counts, pause and resume" },
            { name: "nodes", description: "Nodes and their capabilities" },
            { name: "webhooks", description: "Signed callbacks on terminal job events" },
            { name: "audit", description: "Who did what" },
            { name: "health", description: "Liveness and readiness" },
            { name: "metrics", description: "Prometheus" },
          ],
          components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
          security: [{ bearer: [] }],
        },
      }),
    )
    .group(ASSETS, { detail: { hide: true } }, (g) =>
      g.get("/swagger-ui-bundle.js", asset(bundle, "text/javascript; charset=utf-8")).get("/swagger-ui.css", asset(css, "text/css; charset=utf-8")),
    );
}
