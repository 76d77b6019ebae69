// `medianode store copy --to postgres://...` (SPEC §11): an embedded install (SQLite in its data
// dir, run for real: jobs done, a second token, a webhook, audit) is copied into PostgreSQL row
// for row; a second run copies nothing and exits 0; a node started on the same data dir with
// DATABASE_URL serves the old jobs and outputs to the old tokens unchanged. With --media-to the
// media go into a real S3 server (s3rver) too, verified, and a node on a fresh data dir with
// DATABASE_URL and MEDIANODE_MEDIA_URL serves every output, and a playback URL handed out by the
// embedded install, from the bucket.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createToken } from "../../src/services/tokens";
import { dbPath } from "../../src/store/sqlite/db";
import { corpus, CORPUS_DIR } from "../helpers/corpus";
import { lavfiClip } from "../helpers/media";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres";
import { startTestS3, type TestS3 } from "../helpers/s3";
import { startTestNode, waitForJob } from "../helpers/server";
import { tempDir } from "../helpers/tmp";
import { expectExit, runCli } from "./run";

let database: TestDatabase;
const dir = tempDir("mn-store-copy-");
let site: { token: string; id: string };
const jobIds: string[] = [];
let siteJob: string;
let hook: string;
let videoJob: string;
/** A playback URL of the video's master playlist, made by the embedded install before the move. */
let playbackUrl: URL;
let s3: TestS3;
type Copied = { ok: boolean; tables: { table: string; source: number; copied: number; present: number }[]; media: unknown };

const image = (n: number) => ({ type: "image", source: { path: corpus("image-png-palette.png").path }, options: { variants: [{ name: `v${n}`, size: 16 + n }] }, metadata: { n, ü: [1, { z: null }] } });

beforeAll(async () => {
  database = await createTestDatabase();
  // The embedded install: a real node on SQLite, used, then stopped.
  const t = await startTestNode({ MEDIANODE_IMPORT_DIRS: CORPUS_DIR, MEDIANODE_URL_ALLOWLIST: "127.0.0.1", MEDIANODE_SMTP_URL: "smtp://127.0.0.1:9", MEDIANODE_MAIL_FROM: "media@example.test" }, { dataDir: dir.path, engine: "sqlite" });
  try {
    const created = await createToken(await t.records(), { name: "site", scopes: ["jobs:read", "jobs:write"] }, "test");
    site = { token: created.token, id: created.id };
    for (let i = 0; i < 3; i++) {
      const r = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(image(i)) });
      expect(r.status).toBe(202);
      jobIds.push(((await r.json()) as { id: string }).id);
    }
    const r = await fetch(`${t.url}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${site.token}`, "content-type": "application/json" }, body: JSON.stringify(image(9)) });
    siteJob = ((await r.json()) as { id: string }).id;
    // A short video: an HLS ladder whose playlists must keep resolving from the bucket.
    const clip = lavfiClip(join(dir.path, "clip.mp4"), { width: 256, height: 144, durationSec: 2 });
    const v = await t.api(`/v1/jobs?type=video&options=${encodeURIComponent(JSON.stringify({ renditions: [144], segmentSec: 2 }))}`, { method: "POST", body: Bun.file(clip) });
    expect(v.status).toBe(202);
    videoJob = ((await v.json()) as { id: string }).id;
    for (const id of [...jobIds, siteJob, videoJob]) expect((await waitForJob(t, id, 90_000)).status).toBe("completed");
    const pb = (await (await t.api(`/v1/jobs/${videoJob}/playback`)).json()) as { base: string };
    playbackUrl = new URL(pb.base + "master.m3u8");
    const w = await fetch(`${t.url}/v1/webhooks`, { method: "POST", headers: { authorization: `Bearer ${site.token}`, "content-type": "application/json" }, body: JSON.stringify({ url: "http://127.0.0.1:9/hook" }) });
    expect(w.status).toBe(201);
    hook = ((await w.json()) as { id: string }).id;
    const n = await fetch(`${t.url}/v1/notifications`, { method: "POST", headers: { authorization: `Bearer ${site.token}`, "content-type": "application/json" }, body: JSON.stringify({ channel: "email", to: "site@example.test" }) });
    expect(n.status).toBe(201);
  } finally {
    await t.stop();
  }
}, 120_000);

afterAll(async () => {
  await s3?.stop();
  await database?.drop();
  dir.remove();
});

/** Every row of a table on each side, BIGINT text turned back into numbers, in key order. */
async function rows(table: string, order: string) {
  const lite = new Database(dbPath(dir.path), { readonly: true });
  const a = lite.query(`SELECT * FROM ${table} ORDER BY ${order}`).all() as Record<string, unknown>[];
  lite.close();
  const pg = new SQL(database.url, { max: 1 });
  const b = ((await pg.unsafe(`SELECT * FROM ${table} ORDER BY ${order}`)) as Record<string, unknown>[]).map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "string" && /^-?\d+$/.test(v) && typeof a[0]?.[k] === "number" ? Number(v) : v])),
  );
  await pg.close();
  return { lite: a, pg: b };
}

test("store copy moves every record into PostgreSQL, row for row, and says what it moved", async () => {
  const r = expectExit(await runCli(["store", "copy", "--to", database.url, "--data-dir", dir.path, "--json"]), 0);
  const report = JSON.parse(r.stdout) as Copied;
  expect(report.ok).toBe(true);
  expect(report.media).toBeNull();
  const by = Object.fromEntries(report.tables.map((t) => [t.table, t]));
  expect(by.jobs).toEqual({ table: "jobs", source: 5, copied: 5, present: 5 });
  expect(by.tokens).toEqual({ table: "tokens", source: 2, copied: 2, present: 2 });
  expect(by.webhooks).toEqual({ table: "webhooks", source: 1, copied: 1, present: 1 });
  expect(by.notifications).toEqual({ table: "notifications", source: 1, copied: 1, present: 1 });
  expect(by.audit!.source).toBeGreaterThanOrEqual(3); // token.create ×2 (admin, site), webhook.create
  expect(by.audit!.copied).toBe(by.audit!.source);
  for (const t of report.tables) expect(t.present, t.table).toBe(t.source);
  for (const [table, order] of [["jobs", "id"], ["tokens", "id"], ["webhooks", "id"], ["notifications", "id"]] as const) {
    const { lite, pg } = await rows(table, order);
    expect(pg).toEqual(lite);
  }
  const audit = await rows("audit", "id");
  expect(audit.pg.map(({ id: _, ...rest }) => rest)).toEqual(audit.lite.map(({ id: _, ...rest }) => rest));
});

test("a second run copies nothing and exits 0", async () => {
  const again = JSON.parse(expectExit(await runCli(["store", "copy", "--to", database.url, "--data-dir", dir.path, "--json"]), 0).stdout) as Copied;
  expect(again.ok).toBe(true);
  for (const t of again.tables) expect([t.table, t.copied, t.present]).toEqual([t.table, 0, t.source]);
  expect(expectExit(await runCli(["store", "copy", "--to", database.url, "--data-dir", dir.path]), 0).stdout).toContain("nothing to copy");
});

test("a node on the same data dir with DATABASE_URL serves the old jobs, outputs, tokens and webhooks unchanged", async () => {
  const t = await startTestNode({ DATABASE_URL: database.url, MEDIANODE_ROLES: "api", MEDIANODE_URL_ALLOWLIST: "127.0.0.1" }, { dataDir: dir.path });
  try {
    // No new admin token: the copied one (in <data>/admin.token) still opens the API.
    expect((await t.records()).engine).toBe("postgres");
    expect((await (await t.records()).tokens.list()).filter((k) => k.name === "admin").length).toBe(1);
    expect(t.node.adminToken).toBeNull();
    for (const id of jobIds) {
      const j = (await (await t.api(`/v1/jobs/${id}`)).json()) as { status: string; metadata: unknown; outputs: { name: string; bytes: number }[] };
      expect(j.status).toBe("completed");
      expect(j.metadata).toEqual(image(jobIds.indexOf(id)).metadata);
      for (const o of j.outputs) {
        const f = await t.api(`/v1/jobs/${id}/outputs/${o.name}`);
        expect(f.status).toBe(200);
        expect((await f.arrayBuffer()).byteLength).toBe(o.bytes);
      }
    }
    const asSite = (path: string) => fetch(t.url + path, { headers: { authorization: `Bearer ${site.token}` } });
    const mine = (await (await asSite("/v1/jobs")).json()) as { items: { id: string }[] };
    expect(mine.items.map((j) => j.id)).toEqual([siteJob]);
    expect(((await (await asSite("/v1/webhooks")).json()) as { items: { id: string }[] }).items.map((w) => w.id)).toEqual([hook]);
    // New work lands in PostgreSQL beside the copied rows.
    const r = await fetch(`${t.url}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${site.token}`, "content-type": "application/json" }, body: JSON.stringify({ type: "probe", source: { url: "http://127.0.0.1:9/x" } }) });
    expect(r.status).toBe(202);
  } finally {
    await t.stop();
  }
  // Copying again after the cluster moved on: nothing of the embedded install is missing, nothing is overwritten.
  const after = JSON.parse(expectExit(await runCli(["store", "copy", "--to", database.url, "--data-dir", dir.path, "--json"]), 0).stdout) as Copied;
  expect(after.tables.find((x) => x.table === "jobs")).toEqual({ table: "jobs", source: 5, copied: 0, present: 5 });
}, 90_000);

/** Every file under a data dir's media/ (name relative to it). */
function mediaFiles(dataDir: string): string[] {
  const root = join(dataDir, "media");
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[]).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1));
}

type MediaReport = { files: number; copied: number; bytes: number; verified: number; jobs: number; skipped: number };

test("with --media-to the media go into the bucket, verified; a node on a fresh data dir with DATABASE_URL and MEDIANODE_MEDIA_URL serves them unchanged, and the install's playback URLs", async () => {
  s3 = await startTestS3();
  const bucket = s3.bucket();
  const env = s3.env(bucket, "media");
  const mediaTo = env.MEDIANODE_MEDIA_URL!;
  const copy = (extra: string[] = [], e: Record<string, string> = env) => runCli(["store", "copy", "--to", database.url, "--media-to", mediaTo, "--data-dir", dir.path, ...extra], { env: e, timeoutMs: 90_000 });
  const local = mediaFiles(dir.path);
  expect(local.length).toBeGreaterThan(5);

  // Wrong credentials: refused before anything is written (not a usage error: the bucket's answer).
  const refused = await copy([], { ...env, AWS_ACCESS_KEY_ID: "NOT-A-KEY" });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/--media-to: .*(InvalidAccessKeyId|AccessDenied|403)/);
  expect(await s3.keys(bucket)).toEqual([]);

  const first = JSON.parse(expectExit(await copy(["--json"]), 0).stdout) as Copied & { media: MediaReport };
  expect(first.ok).toBe(true);
  expect(first.media).toMatchObject({ files: local.length, copied: local.length, verified: local.length, skipped: 0 });
  expect(first.media.bytes).toBe(local.reduce((n, f) => n + Bun.file(join(dir.path, "media", f)).size, 0));
  // A second run copies nothing, and still checks every file (exit 0).
  const second = await copy();
  expectExit(second, 0);
  expect(second.stdout).toContain(`media: ${local.length} files, 0 copied`);
  expect(second.stdout).toContain(`${local.length} verified`);
  // The secrets that signed what the install handed out go with the records.
  expect(second.stdout).toMatch(/signing secrets \(.*playback.*\) are in the records/);

  // The new cluster's api node: nothing of the old data dir but the admin token the operator kept.
  const fresh = tempDir("mn-store-copy-cluster-");
  writeFileSync(join(fresh.path, "admin.token"), readFileSync(join(dir.path, "admin.token")));
  // No MEDIANODE_PLAYBACK_SECRET: the install's own came with the records.
  const t = await startTestNode({ DATABASE_URL: database.url, ...env, MEDIANODE_ROLES: "api" }, { dataDir: fresh.path });
  try {
    for (const id of [...jobIds, siteJob, videoJob]) {
      const j = (await (await t.api(`/v1/jobs/${id}`)).json()) as { status: string; outputs: { name: string; bytes: number }[] };
      expect(j.status).toBe("completed");
      const names = mediaFiles(dir.path).filter((f) => f.startsWith(`${id}/out/`)).map((f) => f.slice(`${id}/out/`.length)).sort();
      expect(j.outputs.map((o) => o.name).sort()).toEqual(names);
      for (const o of j.outputs) {
        const f = await t.api(`/v1/jobs/${id}/outputs/${o.name}`);
        expect(f.status, o.name).toBe(200);
        const got = Buffer.from(await f.arrayBuffer());
        expect(got.equals(readFileSync(join(dir.path, "media", id, "out", ...o.name.split("/")))), o.name).toBe(true);
      }
    }
    // The playback URL the embedded install handed out plays from the new node: the master
    // playlist, the rendition playlist it names, and a segment, by their relative URIs.
    const master = await fetch(t.url + playbackUrl.pathname);
    expect(master.status).toBe(200);
    const masterText = await master.text();
    const variant = masterText.split("\n").find((l) => l && !l.startsWith("#"))!;
    const variantUrl = new URL(variant, t.url + playbackUrl.pathname);
    const playlist = await fetch(variantUrl);
    expect(playlist.status).toBe(200);
    const segment = (await playlist.text()).split("\n").find((l) => l && !l.startsWith("#"))!;
    const seg = await fetch(new URL(segment, variantUrl));
    expect(seg.status).toBe(200);
    expect((await seg.arrayBuffer()).byteLength).toBeGreaterThan(0);
    expect(mediaFiles(fresh.path)).toEqual([]);
  } finally {
    await t.stop();
    fresh.remove();
  }
}, 180_000);

test("store copy refuses a target that is not postgres://, a missing install, and a --media-to that is not s3:// (exit 2)", async () => {
  expect(expectExit(await runCli(["store", "copy", "--to", "mysql://x/y", "--data-dir", dir.path]), 2).stderr).toContain("postgres://");
  const empty = tempDir();
  expect(expectExit(await runCli(["store", "copy", "--to", database.url, "--data-dir", empty.path]), 2).stderr).toContain("no embedded install");
  empty.remove();
  expect(expectExit(await runCli(["store", "copy", "--to", database.url, "--media-to", "ftp://bucket/media", "--data-dir", dir.path]), 2).stderr).toContain("s3://bucket/prefix");
});
