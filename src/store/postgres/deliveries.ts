// Deliveries, their attempts and the breakers on PostgreSQL (behind DeliveryRecords).
import type { SQL } from "bun";
import { numOrNull } from "../job-row";
import type { AttemptRow, BreakerRow, DeliveryRecords, DeliveryRow } from "../records";

type Big = string | number;
const delivery = (r: Omit<DeliveryRow, "created_at" | "finished_at"> & { created_at: Big; finished_at: Big | null }): DeliveryRow => ({
  ...r,
  created_at: Number(r.created_at),
  finished_at: numOrNull(r.finished_at),
});
const attempt = (r: Omit<AttemptRow, "at"> & { at: Big }): AttemptRow => ({ ...r, at: Number(r.at) });
const breaker = (r: Omit<BreakerRow, "open_until"> & { open_until: Big | null }): BreakerRow => ({ ...r, open_until: numOrNull(r.open_until) });

export function postgresDeliveryRecords(sql: SQL): DeliveryRecords {
  return {
    // ON CONFLICT DO NOTHING: a second fan-out of the same run (another api node) meets the dedupe key.
    insert: async (d) => (await sql`INSERT INTO deliveries ${sql({ ...d, state: "pending" })} ON CONFLICT DO NOTHING`).count === 1,
    beginSend: async (id, attempt) => (await sql`UPDATE deliveries SET sending_attempt = ${attempt} WHERE id = ${id} AND state = 'pending' AND sending_attempt IS NULL`).count === 1,
    async get(id) {
      const [r] = await sql`SELECT * FROM deliveries WHERE id = ${id}`;
      return r ? delivery(r) : null;
    },
    async recordAttempt(a, state) {
      await sql.begin(async (tx) => {
        await tx`INSERT INTO delivery_attempts ${sql(a)}
          ON CONFLICT (delivery_id, attempt) DO UPDATE SET at = EXCLUDED.at, status_code = EXCLUDED.status_code, error = EXCLUDED.error, duration_ms = EXCLUDED.duration_ms`;
        await tx`UPDATE deliveries SET attempts = GREATEST(attempts, ${a.attempt}::int), state = ${state}, sending_attempt = NULL,
            finished_at = CASE WHEN ${state}::text = 'pending' THEN NULL ELSE ${a.at}::bigint END WHERE id = ${a.delivery_id}`;
      });
    },
    list: async (subscriptionId, limit) =>
      (await sql`SELECT * FROM deliveries WHERE webhook_id = ${subscriptionId} OR notification_id = ${subscriptionId} ORDER BY created_at DESC, id DESC LIMIT ${limit}`).map(delivery),
    listPending: async (since, limit) => (await sql`SELECT * FROM deliveries WHERE state = 'pending' AND created_at >= ${since} ORDER BY created_at, id LIMIT ${limit}`).map(delivery),
    listAttempts: async (deliveryId) => (await sql`SELECT * FROM delivery_attempts WHERE delivery_id = ${deliveryId} ORDER BY attempt`).map(attempt),
    async getBreaker(key) {
      const [r] = await sql`SELECT * FROM webhook_breakers WHERE key = ${key}`;
      return r ? breaker(r) : null;
    },
    async saveBreaker(b) {
      await sql`INSERT INTO webhook_breakers ${sql(b)}
        ON CONFLICT (key) DO UPDATE SET consecutive_failures = EXCLUDED.consecutive_failures, open_until = EXCLUDED.open_until`;
    },
    prune: (before, batch) =>
      sql.begin(async (tx) => {
        const ids = ((await tx`SELECT id FROM deliveries WHERE state != 'pending' AND COALESCE(finished_at, created_at) < ${before} LIMIT ${batch}`) as { id: string }[]).map((r) => r.id);
        if (!ids.length) return 0;
        await tx`DELETE FROM delivery_attempts WHERE delivery_id IN ${sql(ids)}`;
        await tx`DELETE FROM deliveries WHERE id IN ${sql(ids)}`;
        return ids.length;
      }),
  };
}
