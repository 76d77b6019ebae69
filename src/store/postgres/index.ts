// The central engine (SPEC §11): every record in PostgreSQL, through Bun's built-in client
// (no driver to install or bundle). Any number of api nodes share one database.
import { SQL } from "bun";
import { StorageError } from "../../errors";
import { migratePostgres } from "../migrate";
import type { Records } from "../records";
import { postgresAuditRecords } from "./audit";
import { postgresChannelRecords } from "./channels";
import { postgresDeliveryRecords } from "./deliveries";
import { postgresNotificationRecords } from "./notifications";
import { postgresJobRecords } from "./jobs";
import { tryAdvisoryLock } from "./lock";
import { postgresSecretRecords } from "./secrets";
import { postgresTokenRecords } from "./tokens";
import { postgresWebhookRecords } from "./webhooks";

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}

/** `url`: where a lock's own connection goes (tryLock). */
export function postgresRecords(sql: SQL, url: string): Records {
  return {
    engine: "postgres",
    jobs: postgresJobRecords(sql),
    tokens: postgresTokenRecords(sql),
    webhooks: postgresWebhookRecords(sql),
    deliveries: postgresDeliveryRecords(sql),
    notifications: postgresNotificationRecords(sql),
    audit: postgresAuditRecords(sql),
    channels: postgresChannelRecords(sql),
    secrets: postgresSecretRecords(sql),
    tryLock: (name) => tryAdvisoryLock(url, name),
    migrate: () => migratePostgres(sql),
    async ping() {
      await sql`SELECT 1`;
    },
    close: () => sql.close({ timeout: 2 }),
  };
}

/**
 * Connects (the pool opens lazily; the first query here proves the URL, so a wrong host or
 * database stops start-up with its reason instead of failing the first request).
 */
export async function openPostgres(url: string, o: { max?: number } = {}): Promise<Records> {
  const sql = new SQL(url, { max: o.max ?? 10, idleTimeout: 30, connectionTimeout: 10 });
  try {
    await sql`SELECT 1`;
  } catch (e) {
    await sql.close().catch(() => {});
    throw new StorageError(`cannot reach PostgreSQL at ${redactUrl(url)}: ${(e as Error).message}`, undefined, { cause: e });
  }
  return postgresRecords(sql, url);
}
