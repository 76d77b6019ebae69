import { Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { StorageError } from "../../errors";

export type Db = Database;

export function dbPath(dataDir: string): string {
  return join(dataDir, "medianode.db");
}

/** Opens (creating) the SQLite file in WAL mode. Only the api role and `migrate` call this. */
export function openDb(file: string): Db {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let db: Database;
  try {
    db = new Database(file, { create: true, strict: true });
  } catch (e) {
    throw new StorageError(`cannot open SQLite database ${file}: ${(e as Error).message}`, undefined, { cause: e });
  }
  db.exec("PRAGMA journal_mode = WAL");
  // Writers wait instead of failing with SQLITE_BUSY while `migrate` or a backup holds the lock.
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  return db;
}

/**
 * The records for a role that only reads them (monitor, metrics) in another process on the
 * api node's host: read-only, never created or migrated. null when there is no such file
 * (the role then does without: JWTs only, no late-join snapshot, no job counts).
 */
export function openRecordsReadOnly(file: string): Db | null {
  if (!existsSync(file)) return null;
  try {
    const db = new Database(file, { readonly: true, strict: true });
    db.exec("PRAGMA busy_timeout = 5000");
    return db;
  } catch {
    return null;
  }
}
