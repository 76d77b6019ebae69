// Email and Web Push subscriptions on PostgreSQL (behind NotificationRecords).
import type { SQL } from "bun";
import type { NotificationRecords, NotificationRow } from "../records";

type Raw = Omit<NotificationRow, "created_at"> & { created_at: string };
const row = (r: Raw): NotificationRow => ({ ...r, created_at: Number(r.created_at) });

export function postgresNotificationRecords(sql: SQL): NotificationRecords {
  return {
    async insert(n) {
      await sql`INSERT INTO notifications ${sql(n)}`;
    },
    async get(id) {
      const [r] = (await sql`SELECT * FROM notifications WHERE id = ${id}`) as Raw[];
      return r ? row(r) : null;
    },
    list: async (tenant) =>
      ((tenant === null ? await sql`SELECT * FROM notifications ORDER BY created_at, id` : await sql`SELECT * FROM notifications WHERE tenant = ${tenant} ORDER BY created_at, id`) as Raw[]).map(row),
    delete: async (id) => (await sql`DELETE FROM notifications WHERE id = ${id}`).count === 1,
  };
}
