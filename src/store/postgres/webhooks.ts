// The webhooks table on PostgreSQL (behind WebhookRecords).
import type { SQL } from "bun";
import type { WebhookRecords, WebhookRow } from "../records";

type Raw = Omit<WebhookRow, "created_at"> & { created_at: string };
const row = (r: Raw): WebhookRow => ({ ...r, created_at: Number(r.created_at) });

export function postgresWebhookRecords(sql: SQL): WebhookRecords {
  return {
    async insert(w) {
      await sql`INSERT INTO webhooks ${sql(w)}`;
    },
    async get(id) {
      const [r] = (await sql`SELECT * FROM webhooks WHERE id = ${id}`) as Raw[];
      return r ? row(r) : null;
    },
    list: async (tenant) =>
      ((tenant === null ? await sql`SELECT * FROM webhooks ORDER BY created_at` : await sql`SELECT * FROM webhooks WHERE tenant = ${tenant} ORDER BY created_at`) as Raw[]).map(row),
    delete: async (id) => (await sql`DELETE FROM webhooks WHERE id = ${id}`).count === 1,
  };
}
