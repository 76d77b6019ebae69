import { Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { StorageError } from "../errors";

export type Db = Database;

/** The longest a statement blocks the process waiting for another connection's write lock. */
export const BUSY_TIMEOUT_MS = 50;

/** True for SQLite's "another connection holds the lock" errors (worth a retry shortly). */
export function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

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
  // bun:sqlite waits for a busy lock synchronously, blocking the whole process (healthz took
  // 4.7 s with 5000 here, issue #12): wait only briefly, then fail with SQLITE_BUSY; writers
  // that matter retry asynchronously (isBusy) and requests answer 503 with Retry-After.
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
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
