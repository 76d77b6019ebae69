// Email and Web Push subscriptions on SQLite (behind NotificationRecords).
import type { NotificationRecords, NotificationRow } from "../records";
import type { Db } from "./db";

export function sqliteNotificationRecords(db: Db): NotificationRecords {
  return {
    async insert(n) {
      db.query("INSERT INTO notifications (id, tenant, channel, target, events, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(n.id, n.tenant, n.channel, n.target, n.events, n.created_at);
    },
    get: async (id) => db.query<NotificationRow, [string]>("SELECT * FROM notifications WHERE id = ?").get(id),
    list: async (tenant) =>
      tenant === null
        ? db.query<NotificationRow, []>("SELECT * FROM notifications ORDER BY created_at, id").all()
        : db.query<NotificationRow, [string]>("SELECT * FROM notifications WHERE tenant = ? ORDER BY created_at, id").all(tenant),
    delete: async (id) => db.query("DELETE FROM notifications WHERE id = ?").run(id).changes === 1,
  };
}
