import type { Db } from "./db";
import type { Channel } from "../events/notifications/schema";

export interface DeliveryRow {
  id: string;
  channel: Channel;
  webhook_id: string | null;
  /** An email/webpush subscription (notifications table); both ids null: the job's own webhook/notify. */
  notification_id: string | null;
  job_id: string | null;
  tenant: string;
  /** webhook: the URL; email: mailto:<address>; webpush: the push endpoint. */
  url: string;
  event_type: string;
  body: string;
  state: "pending" | "delivered" | "failed";
  attempts: number;
  created_at: number;
  finished_at: number | null;
  /** "<jobId>:<run> <breaker key>": one terminal notification per job run per subscription. */
  dedupe_key: string | null;
  /** Set while an attempt is being sent (see migration 0008_add_notifications). */
  sending_attempt: number | null;
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

export type NewDelivery = Omit<DeliveryRow, "state" | "attempts" | "finished_at" | "sending_attempt">;

/** Inserts a pending delivery; false when its dedupe key already has one (nothing to send). */
export function insertDelivery(db: Db, d: NewDelivery): boolean {
  return (
    db
      .query("INSERT OR IGNORE INTO deliveries (id, channel, webhook_id, notification_id, job_id, tenant, url, event_type, body, state, created_at, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)")
      .run(d.id, d.channel, d.webhook_id, d.notification_id, d.job_id, d.tenant, d.url, d.event_type, d.body, d.created_at, d.dedupe_key).changes === 1
  );
}

/** Marks an attempt as being sent now; false when the delivery is no longer pending or another send holds it. */
export function beginSend(db: Db, id: string, attempt: number): boolean {
  return db.query("UPDATE deliveries SET sending_attempt = ? WHERE id = ? AND state = 'pending' AND sending_attempt IS NULL").run(attempt, id).changes === 1;
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
    db.query("UPDATE deliveries SET attempts = MAX(attempts, ?), state = ?, sending_attempt = NULL, finished_at = CASE WHEN ? = 'pending' THEN NULL ELSE ? END WHERE id = ?").run(a.attempt, state, state, a.at, a.delivery_id);
  })();
}

/** Pending deliveries made at or after `since`, oldest first: re-queued at start (a node may have died between a row and its queue entry, or Redis lost the queue). */
export function listPendingDeliveries(db: Db, since: number, limit: number): DeliveryRow[] {
  return db.query<DeliveryRow, [number, number]>("SELECT * FROM deliveries WHERE state = 'pending' AND created_at >= ? ORDER BY created_at, id LIMIT ?").all(since, limit);
}

/** One subscription's log: a webhook's (w_…) or an email/webpush subscription's (n_…). */
export function listDeliveries(db: Db, subscriptionId: string, limit: number): DeliveryRow[] {
  return db
    .query<DeliveryRow, [string, string, number]>("SELECT * FROM deliveries WHERE webhook_id = ? OR notification_id = ? ORDER BY created_at DESC, id DESC LIMIT ?")
    .all(subscriptionId, subscriptionId, limit);
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
