// The records interface on both engines: the same calls give the same answers (SPEC §11).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { join } from "node:path";
import { newJobId } from "../../src/ids";
import { openPostgres } from "../../src/store/postgres/index";
import type { NewJob, Records } from "../../src/store/records";
import { openDb } from "../../src/store/sqlite/db";
import { sqliteRecords } from "../../src/store/sqlite/index";
import { createTestDatabase, ENGINES, type TestDatabase } from "../helpers/postgres";
import { openTestRecords, type TestRecords } from "../helpers/records";
import { tempDir } from "../helpers/tmp";

const job = (o: Partial<NewJob> = {}): NewJob => ({
  id: newJobId(),
  tenant: "a",
  tokenId: "t_1",
  type: "image",
  priority: 0,
  source: { kind: "upload", filename: "x.jpg", bytes: 3 },
  options: { variants: [] },
  metadata: { z: 1, a: [2, { b: "ü" }] },
  webhook: null,
  idempotencyKey: null,
  maxAttempts: 3,
  now: 1_700_000_000_000,
  ...o,
});

describe.each(ENGINES)("records on %s", (engine) => {
  let r: Records;
  let opened: TestRecords;
  beforeAll(async () => {
    opened = await openTestRecords(engine);
    r = opened.records;
  });
  afterAll(() => opened?.close());

  test("a group insert: new rows, an idempotency key replayed (in and across groups), metadata byte for byte", async () => {
    const first = job({ idempotencyKey: "k1" });
    const [a, b, c] = await r.jobs.insertMany([first, job({ idempotencyKey: "k1" }), job()]);
    expect(a).toMatchObject({ created: true, record: { id: first.id, status: "queued", run: 1 } });
    expect(b).toMatchObject({ created: false, record: { id: first.id } });
    expect(c).toMatchObject({ created: true });
    const [again] = await r.jobs.insertMany([job({ idempotencyKey: "k1" })]);
    expect(again).toMatchObject({ created: false, record: { id: first.id } });
    const got = (await r.jobs.get(first.id))!;
    expect(JSON.stringify(got.metadata)).toBe(JSON.stringify(first.metadata));
    expect(got.createdAt).toBe(first.now);
    expect(typeof got.createdAt).toBe("number");
    expect((await r.jobs.findByIdempotencyKey("t_1", "k1"))!.id).toBe(first.id);
  });

  test("transitions change a row once: active, retrying, finish (a second finish and an older run change nothing), requeue", async () => {
    const j = job();
    await r.jobs.insertMany([j]);
    expect(await r.jobs.markActive(j.id, 1, 1, "n1", 10)).toMatchObject({ status: "active", node: "n1", attempts: 1, startedAt: 10 });
    expect(await r.jobs.markActive(j.id, 1, 1, "n1", 11)).toBeNull();
    expect(await r.jobs.markRetrying(j.id, 1, 1, 12)).toMatchObject({ status: "queued" });
    await r.jobs.setProgress(j.id, 1, 42.5, null, 13);
    expect((await r.jobs.get(j.id))!.progress).toBe(42.5);
    expect(await r.jobs.setWaiting(j.id, 1, { reason: "NO_CAPABLE_NODE", require: ["x"], message: "m", since: new Date(0).toISOString() }, 14)).not.toBeNull();
    expect(await r.jobs.finish(j.id, 2, { status: "completed", at: 15 })).toBeNull();
    const done = await r.jobs.finish(j.id, 1, { status: "completed", outputs: [{ name: "a.webp", mime: "image/webp", bytes: 3 }], result: { w: 1 }, attempts: 2, node: "n2", at: 15 });
    expect(done).toMatchObject({ status: "completed", progress: 100, attempts: 2, node: "n2", finishedAt: 15, live: null });
    expect(await r.jobs.finish(j.id, null, { status: "failed", at: 16 })).toBeNull();
    expect(await r.jobs.requeue(j.id, 17)).toBeNull();
    const failed = job();
    await r.jobs.insertMany([failed]);
    await r.jobs.finish(failed.id, null, { status: "failed", error: { code: "FFMPEG_FAILED", message: "x" }, at: 18 });
    expect(await r.jobs.requeue(failed.id, 19)).toMatchObject({ status: "queued", run: 2, error: null, attempts: 0 });
  });

  test("list pages newest first by id with filters; open rows oldest first; counts; retention; deletes", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const j = job({ tenant: "pager", type: i % 2 ? "video" : "image" });
      await r.jobs.insertMany([j]);
      ids.push(j.id);
      await Bun.sleep(2);
    }
    const page1 = await r.jobs.list({ tenant: "pager", limit: 2 });
    expect(page1.map((x) => x.id)).toEqual([ids[4]!, ids[3]!]);
    const page2 = await r.jobs.list({ tenant: "pager", limit: 2, cursor: page1[1]!.id });
    expect(page2.map((x) => x.id)).toEqual([ids[2]!, ids[1]!]);
    expect((await r.jobs.list({ tenant: "pager", type: "video", limit: 10 })).length).toBe(2);
    const open = await r.jobs.listOpen("", 1000);
    expect(open.map((x) => x.id)).toEqual([...open.map((x) => x.id)].sort());
    const counts = await r.jobs.countByStatus();
    expect(counts.queued).toBeGreaterThanOrEqual(5);
    await r.jobs.finish(ids[0]!, null, { status: "completed", at: 100 });
    expect(await r.jobs.generation(ids[0]!)).toEqual({ status: "completed", finishedAt: 100 });
    expect(await r.jobs.generation("j_nope")).toBeNull();
    expect((await r.jobs.listFinishedBefore(101, 10)).map((x) => x.id)).toContain(ids[0]!);
    expect(await r.jobs.existingIds([ids[0]!, "j_nope"])).toEqual(new Set([ids[0]!]));
    await r.jobs.deleteUnstarted([ids[0]!, ids[1]!]);
    expect(await r.jobs.get(ids[0]!)).not.toBeNull();
    expect(await r.jobs.get(ids[1]!)).toBeNull();
    await r.jobs.delete(ids[0]!);
    expect(await r.jobs.get(ids[0]!)).toBeNull();
  });

  test("tokens: insert, the first admin only once even when asked at the same time, revoke once, touch", async () => {
    const t = (id: string) => ({ id, name: "n", hash: "h", scopes: ["admin" as const], tenant: "admin", now: 5, webhookSecret: `ws-${id}` });
    const made = await Promise.all([r.tokens.insertFirstAdmin(t("t_a")), r.tokens.insertFirstAdmin(t("t_b")), r.tokens.insertFirstAdmin(t("t_c"))]);
    expect(made.filter(Boolean).length).toBe(1);
    expect(await r.tokens.countActiveAdmins()).toBe(1);
    const other = await r.tokens.insert({ ...t("t_d"), scopes: ["jobs:read"] });
    expect(other).toMatchObject({ id: "t_d", created_at: 5, revoked_at: null, webhook_secret: "ws-t_d" });
    expect(await r.tokens.setWebhookSecret("t_d", "rotated")).toBe(true);
    expect((await r.tokens.get("t_d"))?.webhook_secret).toBe("rotated");
    expect(await r.tokens.revoke("t_d", 6)).toBe(true);
    expect(await r.tokens.revoke("t_d", 7)).toBe(false);
    expect(await r.tokens.setWebhookSecret("t_d", "after-revoke")).toBe(false);
    await r.tokens.touch("t_d", 8);
    expect(await r.tokens.get("t_d")).toMatchObject({ revoked_at: 6, last_used_at: 8 });
    expect((await r.tokens.list()).length).toBe(2);
  });

  test("webhooks, deliveries (an attempt and its state in one transaction, a repeat attempt replaced), breakers, audit", async () => {
    await r.webhooks.insert({ id: "w_1", tenant: "a", url: "http://x/h", events: '["job.completed"]', secret: "s", created_at: 1 });
    expect(await r.webhooks.list("a")).toHaveLength(1);
    expect(await r.webhooks.list("b")).toHaveLength(0);
    await r.deliveries.insert({ id: "d_1", channel: "webhook", webhook_id: "w_1", notification_id: null, dedupe_key: null, job_id: "j", tenant: "a", url: "http://x/h", event_type: "job.completed", body: "{}", created_at: 2 });
    await r.deliveries.recordAttempt({ delivery_id: "d_1", attempt: 1, at: 3, status_code: 500, error: "HTTP 500", duration_ms: 4 }, "pending");
    await r.deliveries.recordAttempt({ delivery_id: "d_1", attempt: 1, at: 4, status_code: 502, error: "HTTP 502", duration_ms: 4 }, "pending");
    await r.deliveries.recordAttempt({ delivery_id: "d_1", attempt: 2, at: 5, status_code: 200, error: null, duration_ms: 4 }, "delivered");
    expect(await r.deliveries.get("d_1")).toMatchObject({ state: "delivered", attempts: 2, finished_at: 5 });
    expect((await r.deliveries.listAttempts("d_1")).map((a) => a.status_code)).toEqual([502, 200]);
    expect(await r.deliveries.list("w_1", 10)).toHaveLength(1);
    await r.deliveries.saveBreaker({ key: "webhook:w_1", consecutive_failures: 3, open_until: 99 });
    await r.deliveries.saveBreaker({ key: "webhook:w_1", consecutive_failures: 4, open_until: 100 });
    expect(await r.deliveries.getBreaker("webhook:w_1")).toEqual({ key: "webhook:w_1", consecutive_failures: 4, open_until: 100 });
    expect(await r.deliveries.getBreaker("job:a http://x/h")).toBeNull();
    // Pruning takes finished deliveries (with their attempts) older than the cutoff, never pending ones.
    await r.deliveries.insert({ id: "d_2", channel: "webhook", webhook_id: "w_1", notification_id: null, dedupe_key: null, job_id: "j", tenant: "a", url: "http://x/h", event_type: "job.completed", body: "{}", created_at: 2 });
    expect(await r.deliveries.prune(6, 100)).toBe(1);
    expect(await r.deliveries.get("d_1")).toBeNull();
    expect(await r.deliveries.listAttempts("d_1")).toEqual([]);
    expect(await r.deliveries.get("d_2")).toMatchObject({ state: "pending" });
    expect(await r.deliveries.prune(6, 100)).toBe(0);
    expect(await r.webhooks.delete("w_1")).toBe(true);
    expect(await r.webhooks.delete("w_1")).toBe(false);
    await r.audit.insert({ at: 1, actor: "cli", action: "token.create", target: "t_1", details: { n: 1 } });
    await r.audit.insert({ at: 2, actor: "cli", action: "token.revoke" });
    const [last, first] = await r.audit.list({ limit: 10 });
    expect(last).toMatchObject({ action: "token.revoke", target: null, details: null, at: 2 });
    expect(first).toMatchObject({ action: "token.create", details: '{"n":1}' });
    expect(await r.audit.list({ beforeId: first!.id, limit: 10 })).toEqual([]);
    expect(await r.audit.prune(2, 100)).toBe(1);
    expect((await r.audit.list({ limit: 10 })).map((a) => a.action)).toEqual(["token.revoke"]);
    await r.ping();
  });
});

describe("the duties lock on PostgreSQL (SPEC §11)", () => {
  let database: TestDatabase;
  const open: Records[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const r of open) await r.close();
    await database.drop();
  });

  test("one holder at a time, across handles; released, it passes on; a holder whose session is ended loses it", async () => {
    const a = await openPostgres(database.url);
    const b = await openPostgres(database.url);
    open.push(a, b);
    const first = await a.tryLock("duties");
    expect(first).not.toBeNull();
    expect(await b.tryLock("duties")).toBeNull();
    expect(await a.tryLock("duties")).toBeNull(); // a second session of the same process is another holder
    expect(await first!.held()).toBe(true);
    await first!.release();
    const second = await b.tryLock("duties");
    expect(second).not.toBeNull();
    // The server ends the holder's session (as when its process dies): the lock is free at once,
    // and the old holder's check says so.
    const admin = new SQL(database.url, { max: 1 });
    await admin`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`;
    await admin.close();
    expect(await second!.held()).toBe(false);
    const third = await a.tryLock("duties");
    expect(third).not.toBeNull();
    await second!.release();
    expect(await third!.held()).toBe(true);
    await third!.release();
  });
});

test("SQLite grants the duties lock to its one api node", async () => {
  const dir = tempDir();
  const r = sqliteRecords(openDb(join(dir.path, "medianode.db")));
  const l = await r.tryLock("duties");
  expect(await l?.held()).toBe(true);
  await l!.release();
  await r.close();
  dir.remove();
});
