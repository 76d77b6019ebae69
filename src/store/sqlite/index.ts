// The embedded engine: the records in one SQLite file (./db.ts opens it).
import type { Records } from "../records";
import { migrateSqlite } from "../migrate";
import { sqliteAuditRecords } from "./audit";
import type { Db } from "./db";
import { sqliteDeliveryRecords } from "./deliveries";
import { sqliteNotificationRecords } from "./notifications";
import { sqliteJobRecords } from "./jobs";
import { sqliteTokenRecords } from "./tokens";
import { sqliteWebhookRecords } from "./webhooks";
import { sqliteChannelRecords } from "./channels";
import { sqliteSecretRecords } from "./secrets";

/** Each table's statements are prepared on first use: after migrate() on a new file, not before. */
function lazy<T extends object>(make: () => T): T {
  let v: T | undefined;
  return new Proxy({} as T, { get: (_, k) => Reflect.get((v ??= make()), k) });
}

export function sqliteRecords(db: Db): Records {
  return {
    engine: "sqlite",
    jobs: lazy(() => sqliteJobRecords(db)),
    tokens: lazy(() => sqliteTokenRecords(db)),
    webhooks: lazy(() => sqliteWebhookRecords(db)),
    deliveries: lazy(() => sqliteDeliveryRecords(db)),
    notifications: lazy(() => sqliteNotificationRecords(db)),
    audit: lazy(() => sqliteAuditRecords(db)),
    channels: lazy(() => sqliteChannelRecords(db)),
    secrets: lazy(() => sqliteSecretRecords(db)),
    // One api node per Redis writes a SQLite file: it holds every lock.
    tryLock: async () => ({ held: async () => true, release: async () => {} }),
    migrate: async () => migrateSqlite(db),
    async ping() {
      db.query("SELECT 1").get();
    },
    async close() {
      db.close();
    },
  };
}
