import { expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newJobId } from "../../src/ids";
import { silentLogger } from "../../src/log";
import { sweepRetention } from "../../src/services/retention";
import { createLocalStore } from "../../src/storage/local";
import { openDb } from "../../src/store/db";
import { sqliteRecords } from "../../src/store/sqlite/index";
import { migrate } from "../../src/store/migrate";
import { tempDir } from "../helpers/tmp";

test("finished jobs older than the retention are removed with their files; open and recent ones stay", async () => {
  const dir = tempDir();
  const db = openDb(join(dir.path, "medianode.db"));
  migrate(db);
  const store = createLocalStore(dir.path);
  const records = sqliteRecords(db);
  const now = Date.UTC(2026, 10, 23);
  const day = 86_400_000;
  const make = async (status: "completed" | "failed" | null, finishedDaysAgo: number) => {
    const id = newJobId();
    await records.jobs.insertMany([{ id, tenant: "t", tokenId: null, type: "probe", priority: 0, source: { kind: "upload", bytes: 1 }, options: {}, metadata: null, webhook: null, idempotencyKey: null, maxAttempts: 1, now: now - 40 * day }]);
    mkdirSync(store.outDir(id), { recursive: true });
    writeFileSync(join(store.jobDir(id), "source"), "x");
    if (status) await records.jobs.finish(id, null, { status, at: now - finishedDaysAgo * day });
    return id;
  };
  const oldDone = await make("completed", 31);
  const oldFailed = await make("failed", 45);
  const recent = await make("completed", 2);
  const open = await make(null, 0);
  expect(await sweepRetention({ records, mediaStore: store, log: silentLogger, now: () => now }, 30)).toBe(2);
  for (const id of [oldDone, oldFailed]) {
    expect(await records.jobs.get(id)).toBeNull();
    expect(existsSync(store.jobDir(id))).toBe(false);
  }
  for (const id of [recent, open]) {
    expect(await records.jobs.get(id)).not.toBeNull();
    expect(existsSync(join(store.jobDir(id), "source"))).toBe(true);
  }
  expect(await sweepRetention({ records, mediaStore: store, log: silentLogger, now: () => now }, 0)).toBe(0);
  db.close();
  dir.remove();
});
