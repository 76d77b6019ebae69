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
    async insert(d) {
      await sql`INSERT INTO deliveries ${sql({ ...d, state: "pending" })}`;
    },
    async get(id) {
      const [r] = await sql`SELECT * FROM deliveries WHERE id = ${id}`;
      return r ? delivery(r) : null;
    },
    async recordAttempt(a, state) {
      await sql.begin(async (tx) => {
        await tx`INSERT INTO delivery_attempts ${sql(a)}
          ON CONFLICT (delivery_id, attempt) DO UPDATE SET at = EXCLUDED.at, status_code = EXCLUDED.status_code, error = EXCLUDED.error, duration_ms = EXCLUDED.duration_ms`;
        await tx`UPDATE deliveries SET attempts = GREATEST(attempts, ${a.attempt}::int), state = ${state},
            finished_at = CASE WHEN ${state}::text = 'pending' THEN NULL ELSE ${a.at}::bigint END WHERE id = ${a.delivery_id}`;
      });
    },
    list: async (webhookId, limit) => (await sql`SELECT * FROM deliveries WHERE webhook_id = ${webhookId} ORDER BY created_at DESC, id DESC LIMIT ${limit}`).map(delivery),
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
