// The embedded engine: the records in one SQLite file (store/db.ts opens it).
import type { Db } from "../db";
import type { Records } from "../records";
import { sqliteJobRecords } from "./jobs";
import { sqliteChannelRecords } from "./channels";

export function sqliteRecords(db: Db): Records {
  return { jobs: sqliteJobRecords(db), channels: sqliteChannelRecords(db) };
}
