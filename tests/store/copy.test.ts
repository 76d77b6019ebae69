// The seam `store copy --media-to` fills (src/store/copy.ts MediaCopier): copyStore hands the
// copier every job id of the install and counts the copy verified only when every file is.
// The copier here is a real one to another folder (sha256 read back from the copy), standing in
// for the bucket store's.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { newJobId } from "../../src/ids";
import { sha256File } from "../../src/storage/checksum";
import { copyStore, type MediaCopier } from "../../src/store/copy";
import { migratePostgres } from "../../src/store/migrate";
import { openDb } from "../../src/store/sqlite/db";
import { sqliteRecords } from "../../src/store/sqlite/index";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres";
import { tempDir } from "../helpers/tmp";

let database: TestDatabase;
let pg: SQL;
const from = tempDir();
const to = tempDir();
const ids = [newJobId(), newJobId()];

beforeAll(async () => {
  database = await createTestDatabase();
  pg = new SQL(database.url, { max: 2 });
  await migratePostgres(pg);
  const r = sqliteRecords(openDb(join(from.path, "medianode.db")));
  await r.migrate();
  await r.jobs.insertMany(ids.map((id) => ({ id, tenant: "a", tokenId: null, type: "image", priority: 0, source: { kind: "upload", filename: "x", bytes: 3 }, options: {}, metadata: undefined, webhook: null, idempotencyKey: null, maxAttempts: 1, now: 1 })));
  await r.close();
  for (const id of ids) {
    await mkdir(join(from.path, "media", id, "out"), { recursive: true });
    await writeFile(join(from.path, "media", id, "source"), `source of ${id}`);
    await writeFile(join(from.path, "media", id, "out", "a.txt"), `output of ${id}`);
  }
});
afterAll(async () => {
  await pg?.close();
  await database?.drop();
  from.remove();
  to.remove();
});

/** Copies <from>/media/<id>/ to <to>/<id>/, file by file, each checked by its sha256 in the copy. */
const folderCopier = (seen: string[][], spoil = false): MediaCopier => async (jobIds) => {
  seen.push([...jobIds]);
  const out = { files: 0, copied: 0, bytes: 0, verified: 0 };
  for (const id of jobIds) {
    const base = join(from.path, "media", id);
    for (const rel of (await readdir(base, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(base.length + 1))) {
      out.files++;
      const dest = join(to.path, id, rel);
      await mkdir(join(dest, ".."), { recursive: true });
      await copyFile(join(base, rel), dest);
      if (spoil) await writeFile(dest, "changed on the way");
      out.copied++;
      out.bytes += Bun.file(dest).size;
      if ((await sha256File(dest)) === (await sha256File(join(base, rel)))) out.verified++;
    }
  }
  return out;
};

test("the media copier gets every job id; the copy is ok only when every file verifies", async () => {
  const db = openDb(join(from.path, "medianode.db"));
  try {
    const seen: string[][] = [];
    const good = await copyStore(db, pg, { media: folderCopier(seen) });
    expect(seen).toEqual([[...ids].sort()]);
    expect(good.media).toMatchObject({ files: 4, copied: 4, verified: 4 });
    expect(good.ok).toBe(true);
    const bad = await copyStore(db, pg, { media: folderCopier([], true) });
    expect(bad.tables.every((t) => t.copied === 0 && t.present === t.source)).toBe(true);
    expect(bad.media).toMatchObject({ files: 4, verified: 0 });
    expect(bad.ok).toBe(false);
  } finally {
    db.close();
  }
});
