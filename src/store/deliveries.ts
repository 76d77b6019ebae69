import type { Db } from "./db";

export interface DeliveryRow {
  id: string;
  webhook_id: string | null;
  job_id: string | null;
  tenant: string;
  url: string;
  event_type: string;
  body: string;
  state: "pending" | "delivered" | "failed";
  attempts: number;
  created_at: number;
  finished_at: number | null;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export interface BreakerRow {
  /** `webhook:<id>` for a subscription, `job:<tenant> <url>` for a job's own webhook URL (breakerKey). */
  key: string;
  consecutive_failures: number;
  open_until: number | null;
}

export function insertDelivery(db: Db, d: Omit<DeliveryRow, "state" | "attempts" | "finished_at">): void {
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
}

export function getDelivery(db: Db, id: string): DeliveryRow | null {
  return db.query<DeliveryRow, [string]>("SELECT * FROM deliveries WHERE id = ?").get(id);
}

export function recordAttempt(db: Db, a: AttemptRow, state: DeliveryRow["state"]): void {
  db.transaction(() => {
    db.query("INSERT OR REPLACE INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)").run(
      a.delivery_id,
      a.attempt,
      a.at,
      a.status_code,
      a.error,
      a.duration_ms,
    );
    db.query("UPDATE deliveries SET attempts = MAX(attempts, ?), state = ?, finished_at = CASE WHEN ? = 'pending' THEN NULL ELSE ? END WHERE id = ?").run(a.attempt, state, state, a.at, a.delivery_id);
  })();
}

export function listDeliveries(db: Db, webhookId: string, limit: number): DeliveryRow[] {
  return db.query<DeliveryRow, [string, number]>("SELECT * FROM deliveries WHERE webhook_id = ? ORDER BY created_at DESC, id DESC LIMIT ?").all(webhookId, limit);
}

/** Removes finished deliveries (and their attempts) finished before `before`; returns how many. */
export function pruneDeliveries(db: Db, before: number, batch: number): number {
  return db.transaction(() => {
    const ids = db.query<{ id: string }, [number, number]>("SELECT id FROM deliveries WHERE state != 'pending' AND COALESCE(finished_at, created_at) < ? LIMIT ?").all(before, batch).map((r) => r.id);
    for (const id of ids) {
      db.query("DELETE FROM delivery_attempts WHERE delivery_id = ?").run(id);
      db.query("DELETE FROM deliveries WHERE id = ?").run(id);
    }
    return ids.length;
  })();
}

export function listAttempts(db: Db, deliveryId: string): AttemptRow[] {
  return db.query<AttemptRow, [string]>("SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt").all(deliveryId);
}

export function getBreaker(db: Db, key: string): BreakerRow | null {
  return db.query<BreakerRow, [string]>("SELECT * FROM webhook_breakers WHERE key = ?").get(key);
}

export function saveBreaker(db: Db, b: BreakerRow): void {
  db.query("INSERT OR REPLACE INTO webhook_breakers (key, consecutive_failures, open_until) VALUES (?, ?, ?)").run(b.key, b.consecutive_failures, b.open_until);
}
