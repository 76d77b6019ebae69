import type { Db } from "./db";

export interface WebhookRow {
  id: string;
  tenant: string;
  url: string;
  events: string;
  secret: string;
  created_at: number;
}

export function insertWebhook(db: Db, w: WebhookRow): void {
  db.query("INSERT INTO webhooks (id, tenant, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(w.id, w.tenant, w.url, w.events, w.secret, w.created_at);
}

export function getWebhook(db: Db, id: string): WebhookRow | null {
  return db.query<WebhookRow, [string]>("SELECT * FROM webhooks WHERE id = ?").get(id);
}

/** A tenant's subscriptions (admin: null = all). */
export function listWebhooks(db: Db, tenant: string | null): WebhookRow[] {
  return tenant === null
    ? db.query<WebhookRow, []>("SELECT * FROM webhooks ORDER BY created_at").all()
    : db.query<WebhookRow, [string]>("SELECT * FROM webhooks WHERE tenant = ? ORDER BY created_at").all(tenant);
}

export function deleteWebhook(db: Db, id: string): boolean {
  return db.query("DELETE FROM webhooks WHERE id = ?").run(id).changes === 1;
}
