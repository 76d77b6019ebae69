// The dependency rules of STYLE.md, checked on the import lines of src/.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";

const root = resolve(import.meta.dir, "..");
const src = join(root, "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** [importing file, imported module] with src-relative paths for local imports. */
const edges: [string, string][] = files(src).flatMap((f) => {
  const text = readFileSync(f, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*from\s+["']([^"']+)["']/gm)].map((m) => {
    const spec = m[1]!;
    const target = spec.startsWith(".") ? relative(src, resolve(dirname(f), spec)) : spec;
    return [relative(src, f), target] as [string, string];
  });
});

const violations = (from: RegExp, to: RegExp) => edges.filter(([a, b]) => from.test(a) && to.test(b)).map(([a, b]) => `${a} → ${b}`);

test("nothing imports api, roles or cli, except roles (which wire the api)", () => {
  expect(violations(/^(?!roles\/|api\/)/, /^(api|roles|\.\.\/cli)(\/|$)/)).toEqual([]);
  expect(violations(/^api\//, /^roles\//)).toEqual([]);
});

test("pipelines never import store, services, api or Elysia (workers never open SQLite)", () => {
  expect(violations(/^jobs\//, /^(store|services|api)\/|^elysia|bun:sqlite/)).toEqual([]);
  expect(violations(/^(pool|media)\//, /^(store|services|api)\/|^elysia|bun:sqlite/)).toEqual([]);
});

test("store and queue never import each other; media never imports jobs pipelines", () => {
  expect(violations(/^store\//, /^queue\//)).toEqual([]);
  expect(violations(/^queue\//, /^store\//)).toEqual([]);
  expect(violations(/^media\//, /^jobs\/(?!schema)/)).toEqual([]);
});

test("config imports nothing from src but the job type list, and jobs/schema.ts imports only errors", () => {
  expect(edges.filter(([a, b]) => a.startsWith("config/") && !b.startsWith("config/") && b !== "jobs/schema" && !/^(node:|@|[a-z])/.test(b))).toEqual([]);
  expect(edges.filter(([a, b]) => a === "jobs/schema.ts" && b !== "errors" && !/^(node:|@|[a-z])/.test(b))).toEqual([]);
});

test("sharp only in media/, spawn only in media/ and the embedded Redis", () => {
  expect(violations(/^(?!media\/)/, /^sharp$/)).toEqual([]);
  const spawners = files(src).filter((f) => /Bun\.spawn\(|child_process/.test(readFileSync(f, "utf8"))).map((f) => relative(src, f));
  for (const f of spawners) expect(f).toMatch(/^(media\/|queue\/redis-server\.ts$)/);
});

const text = (f: string) => readFileSync(join(src, f), "utf8");
const srcFiles = files(src).map((f) => relative(src, f));
/** Files whose text matches `re`, src-relative. */
const matching = (re: RegExp) => srcFiles.filter((f) => re.test(text(f)));

test("the api calls services only: it never imports store/ or queue/", () => {
  expect(violations(/^api\//, /^(store|queue)\//)).toEqual([]);
});

test("only queue/ builds BullMQ objects (queues, workers, event streams)", () => {
  const builders = matching(/from "bullmq"/).filter((f) => /new (Queue|Worker|QueueEvents|FlowProducer|Job)\b/.test(text(f)));
  expect(builders.length).toBeGreaterThan(0);
  for (const f of builders) expect(f).toMatch(/^queue\//);
});

test("services/recovery.ts owns the reconcile and the unrecorded-job sweep", () => {
  // Reading every open record, and asking which queued jobs have one, is the reconcile's alone.
  expect(matching(/\.(listOpen|existingIds)\(/).filter((f) => !f.startsWith("store/"))).toEqual(["services/recovery.ts"]);
  expect(matching(/function (startRecovery|removeUnrecordedJobs|snapshotQueues)\b|const reconcile(Once)? =/)).toEqual(["services/recovery.ts"]);
});

test("events/webhooks/deliver.ts owns the HTTP delivery of webhooks", () => {
  expect(matching(/\bsignBody\(/).sort()).toEqual(["events/webhooks/deliver.ts", "events/webhooks/sign.ts"]);
  expect(matching(/\bSIGNATURE_HEADER\]/)).toEqual(["events/webhooks/deliver.ts"]);
});

test("the import scan sees the real graph (so the rules above can fail)", () => {
  expect(edges).toContainEqual(["roles/api.ts", "api/app"]);
  expect(edges).toContainEqual(["jobs/registry.ts", "jobs/image/processor"]);
});
