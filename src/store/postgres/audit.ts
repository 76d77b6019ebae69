// The audit log on PostgreSQL (behind AuditRecords).
import type { SQL } from "bun";
import type { AuditRecords, AuditRow } from "../records";

export function postgresAuditRecords(sql: SQL): AuditRecords {
  return {
    async insert(a) {
      await sql`INSERT INTO audit (at, actor, action, target, details) VALUES (${a.at}, ${a.actor}, ${a.action}, ${a.target ?? null}, ${a.details === undefined ? null : JSON.stringify(a.details)})`;
    },
    prune: async (before, batch) => (await sql`DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ${before} ORDER BY id LIMIT ${batch})`).count,
    list: async (o) =>
      ((await sql`SELECT * FROM audit WHERE id < ${o.beforeId ?? Number.MAX_SAFE_INTEGER} ORDER BY id DESC LIMIT ${o.limit}`) as (Omit<AuditRow, "id" | "at"> & { id: string; at: string })[]).map((r) => ({
        ...r,
        id: Number(r.id),
        at: Number(r.at),
      })),
  };
}
