// A fresh, migrated record store on either engine for store-level tests: SQLite in a temp
// dir, or a PostgreSQL database of the test's own (tests/helpers/postgres.ts); close() drops it.
import { join } from "node:path";
import { openPostgres } from "../../src/store/postgres/index";
import type { ClusterSecret, Records } from "../../src/store/records";
import { openDb } from "../../src/store/sqlite/db";
import { sqliteRecords } from "../../src/store/sqlite/index";
import { createTestDatabase } from "./postgres";
import { tempDir } from "./tmp";

export interface TestRecords {
  records: Records;
  /** The SQLite file, or the PostgreSQL URL. */
  location: string;
  close(): Promise<void>;
}

export async function openTestRecords(engine: "sqlite" | "postgres"): Promise<TestRecords> {
  if (engine === "postgres") {
    const database = await createTestDatabase();
    const records = await openPostgres(database.url);
    await records.migrate();
    return { records, location: database.url, close: async () => (await records.close(), await database.drop()) };
  }
  const dir = tempDir();
  const file = join(dir.path, "medianode.db");
  const records = sqliteRecords(openDb(file));
  await records.migrate();
  return { records, location: file, close: async () => (await records.close(), dir.remove()) };
}

/** A signing secret the cluster stored (cluster_secrets); fails when none is stored yet. */
export function storedSecret(records: Pick<Records, "secrets">, name: ClusterSecret): Promise<string> {
  return records.secrets.shared(name, () => {
    throw new Error(`no ${name} secret stored`);
  });
}
