// The one migration runner for both engines: each engine's numbered SQL files (migrations/
// sqlite/, migrations/postgres/, same versions) apply in order, each once, recorded in
// schema_migrations. Forward only.
import type { SQL } from "bun";
import { MIGRATIONS, type Migration } from "../../migrations/sqlite/index";
import { POSTGRES_MIGRATIONS } from "../../migrations/postgres/index";
import type { Db } from "./sqlite/db";

/** What is left to apply, in version order (pure). */
export function pendingMigrations(all: readonly Migration[], done: ReadonlySet<number>): Migration[] {
  return [...all].sort((a, b) => a.version - b.version).filter((m) => !done.has(m.version));
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`;

/** Applies pending SQLite migrations, each in its own transaction; returns the versions applied (idempotent). */
export function migrateSqlite(db: Db): number[] {
  db.exec(CREATE_TABLE);
  const done = new Set(db.query<{ version: number }, []>("SELECT version FROM schema_migrations").all().map((r) => r.version));
  const applied: number[] = [];
  for (const m of pendingMigrations(MIGRATIONS, done)) {
    db.transaction(() => {
      db.exec(m.sql);
      db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, Date.now());
    })();
    applied.push(m.version);
  }
  return applied;
}

/** The SQLite runner under its old name (the CLI and tests call it with a handle). */
export const migrate = migrateSqlite;

/** Any 64-bit number of our own: the advisory lock that serialises api nodes migrating at once. */
export const MIGRATE_LOCK = 0x6d6e6d67; // "mnmg"

/**
 * Applies pending PostgreSQL migrations in one transaction under an advisory lock, so that
 * several api nodes starting together apply each version once (the others wait, then find
 * nothing left). DDL is transactional in PostgreSQL: a failed file leaves nothing behind.
 */
export async function migratePostgres(sql: SQL): Promise<number[]> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATE_LOCK})`;
    await tx.unsafe(CREATE_TABLE);
    const rows = (await tx`SELECT version FROM schema_migrations`) as { version: number }[];
    const applied: number[] = [];
    for (const m of pendingMigrations(POSTGRES_MIGRATIONS, new Set(rows.map((r) => Number(r.version))))) {
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, ${m.name}, ${Date.now()})`;
      applied.push(m.version);
    }
    return applied;
  });
}
