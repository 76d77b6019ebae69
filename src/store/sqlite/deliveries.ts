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
    db.query("UPDATE deliveries SET attempts = MAX(attempts, ?), state = ?, finished_at = CASE WHEN ? = 'pending' THEN NULL ELSE ? END WHERE id = ?").run(a.attempt, state, state, a.at, a.delivery_id);
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
    async insert(d) {
      db.query("INSERT INTO deliveries (id, webhook_id, job_id, tenant, url, event_type, body, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)").run(
        d.id,
        d.webhook_id,
        d.job_id,
        d.tenant,
        d.url,
        d.event_type,
        d.body,
        d.created_at,
      );
    },
    get: async (id) => db.query<DeliveryRow, [string]>("SELECT * FROM deliveries WHERE id = ?").get(id),
    recordAttempt: async (a, state) => recordAttempt(a, state),
    list: async (webhookId, limit) => db.query<DeliveryRow, [string, number]>("SELECT * FROM deliveries WHERE webhook_id = ? ORDER BY created_at DESC, id DESC LIMIT ?").all(webhookId, limit),
    listAttempts: async (deliveryId) => db.query<AttemptRow, [string]>("SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt").all(deliveryId),
    getBreaker: async (key) => db.query<BreakerRow, [string]>("SELECT * FROM webhook_breakers WHERE key = ?").get(key),
    async saveBreaker(b) {
      db.query("INSERT OR REPLACE INTO webhook_breakers (key, consecutive_failures, open_until) VALUES (?, ?, ?)").run(b.key, b.consecutive_failures, b.open_until);
    },
    prune: async (before, batch) => prune(before, batch),
  };
}
