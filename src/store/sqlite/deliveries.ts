// Deliveries, their attempts and the breakers on SQLite (behind DeliveryRecords).
import type { AttemptRow, BreakerRow, DeliveryRecords, DeliveryRow } from "../records";
import type { Db } from "./db";

export function sqliteDeliveryRecords(db: Db): DeliveryRecords {
  const recordAttempt = db.transaction((a: AttemptRow, state: DeliveryRow["state"]) => {
    db.query("INSERT OR REPLACE INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)").run(
      a.delivery_id,
      a.attempt,
      a.at,
      a.status_code,
      a.error,
      a.duration_ms,
    );
    db.query("UPDATE deliveries SET attempts = MAX(attempts, ?), state = ?, sending_attempt = NULL, finished_at = CASE WHEN ? = 'pending' THEN NULL ELSE ? END WHERE id = ?").run(a.attempt, state, state, a.at, a.delivery_id);
  });
  const prune = db.transaction((before: number, batch: number) => {
    const ids = db.query<{ id: string }, [number, number]>("SELECT id FROM deliveries WHERE state != 'pending' AND COALESCE(finished_at, created_at) < ? LIMIT ?").all(before, batch).map((r) => r.id);
    for (const id of ids) {
      db.query("DELETE FROM delivery_attempts WHERE delivery_id = ?").run(id);
      db.query("DELETE FROM deliveries WHERE id = ?").run(id);
    }
    return ids.length;
  });
  return {
    insert: async (d) =>
      db
        .query("INSERT OR IGNORE INTO deliveries (id, channel, webhook_id, notification_id, job_id, tenant, url, event_type, body, state, created_at, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)")
        .run(d.id, d.channel, d.webhook_id, d.notification_id, d.job_id, d.tenant, d.url, d.event_type, d.body, d.created_at, d.dedupe_key).changes === 1,
    beginSend: async (id, attempt) => db.query("UPDATE deliveries SET sending_attempt = ? WHERE id = ? AND state = 'pending' AND sending_attempt IS NULL").run(attempt, id).changes === 1,
    get: async (id) => db.query<DeliveryRow, [string]>("SELECT * FROM deliveries WHERE id = ?").get(id),
    recordAttempt: async (a, state) => recordAttempt(a, state),
    list: async (subscriptionId, limit) =>
      db.query<DeliveryRow, [string, string, number]>("SELECT * FROM deliveries WHERE webhook_id = ? OR notification_id = ? ORDER BY created_at DESC, id DESC LIMIT ?").all(subscriptionId, subscriptionId, limit),
    listPending: async (since, limit) => db.query<DeliveryRow, [number, number]>("SELECT * FROM deliveries WHERE state = 'pending' AND created_at >= ? ORDER BY created_at, id LIMIT ?").all(since, limit),
    listAttempts: async (deliveryId) => db.query<AttemptRow, [string]>("SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt").all(deliveryId),
    getBreaker: async (key) => db.query<BreakerRow, [string]>("SELECT * FROM webhook_breakers WHERE key = ?").get(key),
    async saveBreaker(b) {
      db.query("INSERT OR REPLACE INTO webhook_breakers (key, consecutive_failures, open_until) VALUES (?, ?, ?)").run(b.key, b.consecutive_failures, b.open_until);
    },
    prune: async (before, batch) => prune(before, batch),
  };
}
