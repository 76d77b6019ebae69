// The webhooks table on SQLite (behind WebhookRecords).
import type { WebhookRecords, WebhookRow } from "../records";
import type { Db } from "./db";

export function sqliteWebhookRecords(db: Db): WebhookRecords {
  return {
    async insert(w) {
      db.query("INSERT INTO webhooks (id, tenant, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(w.id, w.tenant, w.url, w.events, w.secret, w.created_at);
    },
    get: async (id) => db.query<WebhookRow, [string]>("SELECT * FROM webhooks WHERE id = ?").get(id),
    list: async (tenant) =>
      tenant === null
        ? db.query<WebhookRow, []>("SELECT * FROM webhooks ORDER BY created_at").all()
        : db.query<WebhookRow, [string]>("SELECT * FROM webhooks WHERE tenant = ? ORDER BY created_at").all(tenant),
    delete: async (id) => db.query("DELETE FROM webhooks WHERE id = ?").run(id).changes === 1,
  };
}
