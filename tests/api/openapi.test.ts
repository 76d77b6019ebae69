// The OpenAPI document that a real node serves (issue 11, point 3): valid for a standard
// validator, a route-by-route contract (params, query, bodies, responses from the TypeBox
// schemas), no internal routes, a TypeScript client generated from it that type-checks an
// example, and a /docs page that renders with every non-local request blocked.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import openapiTS, { astToString } from "openapi-typescript";
import { chromium } from "playwright-core";
import { EVENTS_PATH } from "../../src/api/events-ws/hub";
import { SUPPORTED_TYPES } from "../../src/jobs/registry";
import { startTestNode, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

interface Operation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses?: Record<string, { content?: Record<string, { schema: unknown }> }>;
  security?: unknown[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

let t: TestNode;
let doc: Document;
const dir = tempDir("medianode-openapi-");
beforeAll(async () => {
  t = await startTestNode();
  const r = await fetch(`${t.url}/docs/json`);
  expect(r.status).toBe(200);
  doc = (await r.json()) as Document;
});
afterAll(async () => {
  await t.stop();
  dir.remove();
});

const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));

test("a standard validator (@seriousme/openapi-schema-validator) accepts the served document", async () => {
  const v = new Validator();
  const verdict = await v.validate(doc as never);
  console.log(`OpenAPI ${doc.openapi} validator verdict: ${JSON.stringify(verdict)}`);
  expect(verdict).toEqual({ valid: true });
});

test("the validator is not a rubber stamp: it refuses a broken document", async () => {
  const broken = structuredClone(doc) as unknown as { paths: Record<string, Record<string, { responses?: unknown }>> };
  broken.paths["/v1/jobs"]!.post!.responses = "none";
  expect((await new Validator().validate(broken as never)).valid).toBe(false);
});

describe("the contract, route by route", () => {
  test("internal worker routes and the dashboard's files are left out; every public route is in", () => {
    const paths = Object.keys(doc.paths);
    expect(paths.filter((p) => p.startsWith("/v1/worker"))).toEqual([]);
    expect(paths.filter((p) => p.startsWith("/dashboard") || p.startsWith("/docs"))).toEqual([]);
    for (const p of ["/v1/jobs", "/v1/jobs/batch", "/v1/jobs/{id}", "/v1/jobs/{id}/retry", "/v1/queues", "/v1/webhooks", "/v1/nodes", "/v1/audit", "/healthz", "/readyz", "/metrics"]) expect(paths).toContain(p);
    // The WebSocket is described in the document's description (OpenAPI has no WebSocket operations).
    expect(paths).not.toContain(EVENTS_PATH);
  });

  test("every operation declares a success response with its content, and error bodies", () => {
    for (const { path, method, op } of operations()) {
      const codes = Object.keys(op.responses ?? {});
      const ok = codes.filter((c) => c.startsWith("2"));
      expect(`${method} ${path}: ${ok.length > 0}`).toBe(`${method} ${path}: true`);
      for (const c of ok) if (c !== "204") expect(`${method} ${path} ${c}: ${!!op.responses![c]!.content}`).toBe(`${method} ${path} ${c}: true`);
      // /p/ carries its own signed token in the path (SPEC §10): no bearer, so no 401.
      const protectedRoute = !["/healthz", "/readyz", "/metrics"].includes(path) && !path.startsWith("/p/");
      if (protectedRoute) {
        expect(`${method} ${path}: ${codes.includes("401")}`).toBe(`${method} ${path}: true`);
        const err = op.responses!["401"]!.content!["application/json"]!.schema as { properties: { error: { properties: Record<string, unknown> } } };
        expect(Object.keys(err.properties.error.properties).sort()).toEqual(["code", "details", "message"]);
      } else expect(op.security).toEqual([]);
    }
  });

  test("path parameters are declared wherever the path has them", () => {
    for (const { path, method, op } of operations()) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
      for (const name of inPath) expect(`${method} ${path}: ${declared.includes(name!)}`).toBe(`${method} ${path}: true`);
    }
  });

  test("POST /v1/jobs: JSON with each type's own options, multipart and raw uploads; 202 is the Job", () => {
    const op = doc.paths["/v1/jobs"]!.post!;
    expect(Object.keys(op.requestBody!.content).sort()).toEqual(["application/json", "application/octet-stream", "multipart/form-data"]);
    const json = op.requestBody!.content["application/json"]!.schema as { anyOf: { properties: { type: { const: string }; options: { properties: Record<string, unknown> } } }[] };
    expect(json.anyOf.map((v) => v.properties.type.const).sort()).toEqual([...SUPPORTED_TYPES].sort());
    const video = json.anyOf.find((v) => v.properties.type.const === "video")!;
    expect(Object.keys(video.properties.options.properties)).toEqual(expect.arrayContaining(["renditions", "crf", "require"]));
    const job = op.responses!["202"]!.content!["application/json"]!.schema as { properties: Record<string, unknown> };
    expect(Object.keys(job.properties)).toEqual(expect.arrayContaining(["id", "type", "status", "outputs", "error", "live"]));
    expect((op.parameters ?? []).map((p) => `${p.in}:${p.name}`)).toContain("query:type");
  });

  test("GET /v1/jobs declares its query and the list page", () => {
    const op = doc.paths["/v1/jobs"]!.get!;
    expect((op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name)).toEqual(expect.arrayContaining(["status", "type", "limit", "cursor"]));
    const page = op.responses!["200"]!.content!["application/json"]!.schema as { properties: Record<string, unknown> };
    expect(Object.keys(page.properties).sort()).toEqual(["items", "nextCursor"]);
  });
});

test("a TypeScript client generated with openapi-typescript type-checks an example, and refuses a wrong one", async () => {
  writeFileSync(join(dir.path, "medianode.ts"), astToString(await openapiTS(doc as never)));
  const header = `import type { paths } from "./medianode";
type Json<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends { responses: Record<S, { content: { "application/json": infer B } }> } ? B : never;
type Submit = paths["/v1/jobs"]["post"] extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
`;
  writeFileSync(
    join(dir.path, "good.ts"),
    header +
      `const req: Submit = { type: "video", source: { url: "https://example.com/a.mp4" }, options: { renditions: [720, 360], require: ["libsvtav1"] }, priority: 5 };
declare const job: Json<"/v1/jobs", "post", 202>;
const status: "queued" | "active" | "completed" | "failed" | "cancelled" = job.status;
const urls: string[] = job.outputs.map((o) => o.url);
const code: string | undefined = job.error?.code;
declare const page: Json<"/v1/jobs", "get", 200>;
const next: string | null = page.nextCursor;
declare const err: Json<"/v1/jobs", "post", 422>;
const message: string = err.error.message;
export { req, status, urls, code, next, message };
`,
  );
  // An unknown type, and an option of another type: the generated types must say something.
  writeFileSync(join(dir.path, "bad.ts"), header + `const a: Submit = { type: "transcode" };\nconst b: Submit = { type: "probe", options: { renditions: [720] } };\nexport { a, b };\n`);
  const tsc = join(import.meta.dir, "../../node_modules/.bin/tsc");
  const r = Bun.spawnSync([tsc, "--noEmit", "--strict", "--skipLibCheck", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler", join(dir.path, "good.ts"), join(dir.path, "bad.ts")], { cwd: dir.path, stdout: "pipe", stderr: "pipe" });
  const out = r.stdout.toString() + r.stderr.toString();
  const errorsIn = (f: string) => out.split("\n").filter((l) => l.includes(`${f}(`));
  expect(errorsIn("good.ts")).toEqual([]);
  expect(errorsIn("bad.ts").map((l) => /bad\.ts\((\d+),/.exec(l)![1])).toEqual(["4", "5"]);
  expect(out.split("\n").filter((l) => l.includes("error TS") && !l.includes("bad.ts("))).toEqual([]);
});

test("/docs renders its routes in Chromium with every non-local request blocked", async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    const page = await browser.newPage();
    const blocked: string[] = [];
    await page.route("**/*", (route) => {
      const host = new URL(route.request().url()).hostname;
      if (host === "127.0.0.1" || host === "localhost") return route.continue();
      blocked.push(route.request().url());
      return route.abort();
    });
    await page.goto(`${t.url}/docs`);
    await page.waitForSelector(".opblock-summary-path", { timeout: 30_000 });
    const shown = await page.$$eval(".opblock-summary-path", (els) => els.map((e) => e.getAttribute("data-path") ?? e.textContent ?? ""));
    expect(shown).toContain("/v1/jobs");
    expect(shown).toContain("/v1/jobs/{id}");
    expect(shown.some((p) => p.startsWith("/v1/worker"))).toBe(false);
    expect(blocked).toEqual([]);
  } finally {
    await browser.close();
  }
});
