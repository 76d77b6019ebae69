import type { Db } from "./db";

/** An email or Web Push subscription (webhooks keep their own table, store/webhooks.ts). */
export interface NotificationRow {
  id: string;
  tenant: string;
  channel: "email" | "webpush";
  /** email: the address; webpush: the PushSubscription JSON. */
  target: string;
  events: string;
  created_at: number;
}

export function insertNotification(db: Db, n: NotificationRow): void {
  db.query("INSERT INTO notifications (id, tenant, channel, target, events, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(n.id, n.tenant, n.channel, n.target, n.events, n.created_at);
}

export function getNotification(db: Db, id: string): NotificationRow | null {
  return db.query<NotificationRow, [string]>("SELECT * FROM notifications WHERE id = ?").get(id);
}

/** A tenant's subscriptions (admin: null = all). */
export function listNotifications(db: Db, tenant: string | null): NotificationRow[] {
  return tenant === null
    ? db.query<NotificationRow, []>("SELECT * FROM notifications ORDER BY created_at, id").all()
    : db.query<NotificationRow, [string]>("SELECT * FROM notifications WHERE tenant = ? ORDER BY created_at, id").all(tenant);
}

export function deleteNotification(db: Db, id: string): boolean {
  return db.query("DELETE FROM notifications WHERE id = ?").run(id).changes === 1;
}
