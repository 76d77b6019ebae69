import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS } from "../../migrations/index";
import { openDb } from "../../src/store/db";
import { migrate } from "../../src/store/migrate";
import { tempDir } from "../helpers/tmp";

test("every .sql file in migrations/ is listed, in order, named NNNN_verb_noun.sql", () => {
  const files = readdirSync(new URL("../../migrations/", import.meta.url).pathname).filter((f) => f.endsWith(".sql")).sort();
  expect(MIGRATIONS.map((m) => m.name)).toEqual(files);
  MIGRATIONS.forEach((m, i) => {
    expect(m.version).toBe(i + 1);
    expect(m.name).toMatch(/^\d{4}_[a-z]+(_[a-z]+)*\.sql$/);
  });
});

test("all migrations apply to an empty file, in WAL mode, and a second run applies none", () => {
  const dir = tempDir();
  const db = openDb(join(dir.path, "medianode.db"));
  expect(migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
  expect(migrate(db)).toEqual([]);
  expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()!.journal_mode).toBe("wal");
  const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name);
  expect(tables).toEqual(expect.arrayContaining(["jobs", "tokens", "audit", "schema_migrations"]));
  db.close();
  dir.remove();
});
