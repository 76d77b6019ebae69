// Which engine holds the records (SPEC §11): DATABASE_URL set → PostgreSQL, else the SQLite
// file in the data dir. Callers get the Records interface and never know which.
import { existsSync } from "node:fs";
import type { Config } from "../config/schema";
import { openPostgres } from "./postgres/index";
import type { Records } from "./records";
import { dbPath, openDb, openRecordsReadOnly } from "./sqlite/db";
import { sqliteRecords } from "./sqlite/index";

export type StoreConfig = Pick<Config, "dataDir" | "databaseUrl">;

/** Opens the records for writing (api role, migrate, token, store copy). */
export async function openRecords(config: StoreConfig): Promise<Records> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl);
  return sqliteRecords(openDb(dbPath(config.dataDir)));
}

/**
 * The records for a role that only reads them (monitor, metrics) in a process without the api
 * role: PostgreSQL is shared, so it is just opened; SQLite is opened read-only if the file is
 * on this host, else null (the role then does without).
 */
export async function openRecordsForReading(config: StoreConfig): Promise<Records | null> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl, { max: 4 }).catch(() => null);
  const file = dbPath(config.dataDir);
  if (!existsSync(file)) return null;
  const db = openRecordsReadOnly(file);
  return db ? sqliteRecords(db) : null;
}
