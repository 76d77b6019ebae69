import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { MIGRATIONS } from "../../migrations/sqlite/index";
import { POSTGRES_MIGRATIONS } from "../../migrations/postgres/index";
import { migratePostgres, migrateSqlite, pendingMigrations } from "../../src/store/migrate";
import { openDb } from "../../src/store/sqlite/db";
import { createTestDatabase } from "../helpers/postgres";
import { tempDir } from "../helpers/tmp";

const sqlFiles = (engine: string) => readdirSync(new URL(`../../migrations/${engine}/`, import.meta.url).pathname).filter((f) => f.endsWith(".sql")).sort();

test.each([
  ["sqlite", MIGRATIONS],
  ["postgres", POSTGRES_MIGRATIONS],
] as const)("every .sql file in migrations/%s/ is listed, in order, named NNNN_verb_noun.sql", (engine, list) => {
  expect(list.map((m) => m.name)).toEqual(sqlFiles(engine));
  list.forEach((m, i) => {
    expect(m.version).toBe(i + 1);
    expect(m.name).toMatch(/^\d{4}_[a-z]+(_[a-z]+)*\.sql$/);
  });
});

test("both engines have the same migrations: one change, one number", () => {
  expect(POSTGRES_MIGRATIONS.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
});

test("pendingMigrations: what is not done yet, in version order", () => {
  const all = [3, 1, 2].map((version) => ({ version, name: `000${version}_x.sql`, sql: "" }));
  expect(pendingMigrations(all, new Set([1])).map((m) => m.version)).toEqual([2, 3]);
  expect(pendingMigrations(all, new Set([1, 2, 3]))).toEqual([]);
});

test("all SQLite migrations apply to an empty file, in WAL mode, and a second run applies none", () => {
  const dir = tempDir();
  const db = openDb(join(dir.path, "medianode.db"));
  expect(migrateSqlite(db)).toEqual(MIGRATIONS.map((m) => m.version));
  expect(migrateSqlite(db)).toEqual([]);
  expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()!.journal_mode).toBe("wal");
  const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name);
  expect(tables).toEqual(expect.arrayContaining(["jobs", "tokens", "audit", "webhooks", "deliveries", "delivery_attempts", "webhook_breakers", "schema_migrations"]));
  db.close();
  dir.remove();
});

test("all PostgreSQL migrations apply to an empty database once, even with two runners at the same time, and make the same tables and columns", async () => {
  const database = await createTestDatabase();
  const a = new SQL(database.url, { max: 2 });
  const b = new SQL(database.url, { max: 2 });
  try {
    // Two api nodes starting together: the advisory lock lets one apply, the other finds nothing left.
    const [x, y] = await Promise.all([migratePostgres(a), migratePostgres(b)]);
    expect([...x, ...y].sort((p, q) => p - q)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    expect(await migratePostgres(a)).toEqual([]);
    const cols = (await a`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`) as { table_name: string; column_name: string }[];
    const pg = cols.map((c) => `${c.table_name}.${c.column_name}`).sort();
    // The SQLite schema after the same migrations, for comparison.
    const dir = tempDir();
    const db = openDb(join(dir.path, "medianode.db"));
    migrateSqlite(db);
    const lite: string[] = [];
    for (const { name } of db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all()) {
      for (const c of db.query<{ name: string }, []>(`PRAGMA table_info(${name})`).all()) lite.push(`${name}.${c.name}`);
    }
    db.close();
    dir.remove();
    expect(pg).toEqual(lite.sort());
  } finally {
    await a.close();
    await b.close();
    await database.drop();
  }
});
